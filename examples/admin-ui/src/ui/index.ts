/**
 * shadcn/ui-style building blocks (Radix primitives, class-variance-authority, tailwind-merge): the admin cards'
 * and each example's own (the dashboard's chat, react-admin's search comparison).
 */
export { Alert, AlertDescription, AlertTitle } from "./alert.js";
export { Badge, badgeVariants, type BadgeProps } from "./badge.js";
export { Button, buttonVariants, type ButtonProps } from "./button.js";
export { Card, CardContent, CardDescription, CardHeader, CardTitle } from "./card.js";
export { Input } from "./input.js";
export { Label } from "./label.js";
export { Progress, type ProgressProps } from "./progress.js";
export { Switch } from "./switch.js";
export { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from "./table.js";
export { cn } from "../lib/utils.js";
