declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of dynalite 4 (see its readme). */
  interface DynaliteOptions {
    /** Folder for LevelDB files; in memory when omitted. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    ssl?: boolean;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
