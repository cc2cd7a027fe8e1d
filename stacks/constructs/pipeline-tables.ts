import { ordersTableActions } from '../../handlers/commands/registry';
import type { CommandDefinition } from '../../handlers/commands/command-definition';
import { EncryptedTable } from './encrypted-table';
import type { Grantee } from './role';

/**
 * The orders table (the command side, with its stream), whose grants say
 * what the grantee does with it; each adds the table actions, the key's and
 * the gateway endpoint's, together (see {@link EncryptedTable}).
 */
export class OrdersTable extends EncryptedTable {
  /** Each command's conditional write and the read-back: what the workflow does (actions from the command registry). */
  grantWriteOrders(grantee: Grantee, commands?: readonly CommandDefinition[]): void {
    this.grant(grantee, 'WriteAndReadOrders', ordersTableActions(commands));
  }

  /** Reads every order: what a rebuild of the read model does. */
  grantScanOrders(grantee: Grantee): void {
    this.grant(grantee, 'ScanOrders', ['dynamodb:Scan', 'dynamodb:DescribeTable']);
  }

  /** Reads the orders stream, through a stream mapping running as `grantee`. */
  grantOrdersStreamRead(grantee: Grantee): void {
    this.grantStreamRead(grantee, 'ReadOrdersStream');
  }
}

/** The Powertools idempotency table. */
export class IdempotencyTable extends EncryptedTable {
  /** What Powertools idempotency does with its records: get, put (conditional), update, delete. */
  grantIdempotencyRecords(grantee: Grantee): void {
    this.grant(grantee, 'IdempotencyRecords', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
  }
}
