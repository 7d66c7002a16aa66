/**
 * The deep-memory admin screen both examples render (react-admin on Vite, nextjs-dashboard on Next.js): the cards,
 * each on a `@zip/deep-memory-react` hook, and the formatting they share. The building blocks are in
 * `@zip/example-admin-ui/ui`, the styles in `@zip/example-admin-ui/styles.css`.
 */
export { AdminHeader } from "./admin/admin-header.js";
export { AdminScreen } from "./admin/admin-screen.js";
export { HistoryCard } from "./admin/history-card.js";
export { RecallChart } from "./admin/recall-chart.js";
export { ReviewSection } from "./admin/review-section.js";
export { SettingsCard } from "./admin/settings-card.js";
export { WorkflowCard, type WorkflowCardProps } from "./admin/workflow-card.js";
export { formatDateTime, percent, plural, shortId } from "./lib/format.js";
