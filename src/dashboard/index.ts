/**
 * `session-pgsql/dashboard`: a web page of the store's servers, sessions, collections,
 * failovers and traffic, to mount behind your application's own authentication.
 */
export { createDashboard, Dashboard, type DashboardStore } from './dashboard.js';
export type { DashboardOptions, ResolvedDashboardOptions } from './dashboard-options.js';
export { fastifyDashboard } from './fastify-dashboard.js';
export { koaDashboard } from './koa-dashboard.js';
export { type NodeHandler, nodeHandler } from './node-handler.js';
export type { CollectionRecord, HealthRecord, Sample } from './sampler.js';
