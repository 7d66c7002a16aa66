/** A route-handler-only app for the router contract test; it imports nothing of the workspace. */
export default { poweredByHeader: false, eslint: { ignoreDuringBuilds: true } };
