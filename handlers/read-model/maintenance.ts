import type { Connection } from 'mysql2/promise';
import { READ_MODEL_TABLE_KEYS, READ_MODEL_TABLES, type ReadModelTables } from './tables';

/**
 * Empties the read model. It is derived data: the local runtime clears it when
 * the orders table it is derived from starts empty.
 */
export async function clearReadModel(connection: Connection, tables: ReadModelTables = READ_MODEL_TABLES): Promise<void> {
  for (const key of READ_MODEL_TABLE_KEYS) {
    await connection.query('TRUNCATE TABLE ??', [tables[key]]);
  }
}
