export type { Database, QueryResult, Statement } from './database/database.js';
export type { PgPoolLike } from './database/pg-database.js';
export { type ErrorCode, ErrorCodes, SessionPgsqlError } from './errors.js';
export type { GcResult } from './gc/garbage-collector.js';
export {
  type ImportConnectPgSimpleOptions,
  type ImportProgress,
  importConnectPgSimple,
} from './migrate/import-connect-pg-simple.js';
export {
  type TableUpgrade,
  type UpgradeTableOptions,
  type UpgradeTableResult,
  upgradeTable,
} from './migrate/upgrade-table.js';
export type {
  Placement,
  ResolvedOptions,
  SerializerName,
  SessionPgsqlOptions,
} from './options/options.js';
export { jsonSerializer } from './serializers/json.js';
export {
  type PhpSession,
  phpBinarySerializer,
  phpSerializer,
  phpSerializeSerializer,
} from './serializers/php.js';
export { getPhpClass, setPhpClass } from './serializers/php-metadata.js';
export { PhpEnum, PhpSerializable } from './serializers/php-values.js';
export type { Serializer } from './serializers/serializer.js';
export type { ServerStatus } from './server/server.js';
export type { InspectedMetadata, InspectedSession } from './store/inspection.js';
export type {
  CacheLookupEvent,
  OperationEvent,
  OperationName,
  OperationOutcome,
} from './store/operation-events.js';
export type { LoadedSession } from './store/session-reader.js';
export type {
  ErrorCounters,
  ErrorLevel,
  SessionInfo,
  SessionState,
} from './store/session-state.js';
export type { ServerSessionStats, SessionBytes, SessionStats } from './store/session-stats.js';
export { SessionPgsql } from './store/store.js';
export type {
  HealthEvent,
  SessionPgsqlEvents,
  StoreStatus,
  WriteOptions,
} from './store/store-types.js';
