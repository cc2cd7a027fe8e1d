/**
 * The original sample's read model and projection, rebuilt for comparison in
 * the same run (benchmarks only): two tables, one stored-procedure call per
 * order and per line in autocommit, no idempotency; reports computed with
 * `GROUP BY` over every order line on each call. `UUID_TO_BIN` (MySQL 8 only)
 * is replaced by `UNHEX(REPLACE(UUID(), '-', ''))` so it runs on MariaDB too.
 */
import type { Connection, Pool } from 'mysql2/promise';
import type { Order } from '../handlers/domain/order';

/** Creates the original schema and its procedures. */
export async function createOriginalSchema(connection: Connection): Promise<void> {
  await connection.query(`
    CREATE TABLE orders (
      orderid VARCHAR(40) PRIMARY KEY,
      orderstatus VARCHAR(255),
      orderdate DATETIME
    );
    CREATE TABLE orderitems (
      orderitemid BINARY(16) PRIMARY KEY,
      itemid VARCHAR(40),
      quantity SMALLINT,
      orderid VARCHAR(40),
      CONSTRAINT fk_order FOREIGN KEY (orderid) REFERENCES orders (orderid)
    );
    CREATE PROCEDURE InsertOrder(IN p_orderid VARCHAR(40), IN p_orderstatus VARCHAR(255), IN p_orderdate DATETIME)
    BEGIN
      INSERT INTO orders (orderid, orderstatus, orderdate) VALUES (p_orderid, p_orderstatus, p_orderdate);
    END;
    CREATE PROCEDURE InsertOrderItem(IN p_orderid VARCHAR(40), IN p_itemid VARCHAR(40), IN p_quantity SMALLINT)
    BEGIN
      INSERT INTO orderitems (orderitemid, orderid, itemid, quantity) VALUES (UNHEX(REPLACE(UUID(), '-', '')), p_orderid, p_itemid, p_quantity);
    END;
    CREATE PROCEDURE GetItemReport()
    BEGIN
      SELECT a.itemid, SUM(a.quantity) AS totalordered, DATE_FORMAT(MAX(b.orderdate), '%Y-%m-%d') AS lastorderdate
        FROM orderitems a LEFT JOIN orders b ON a.orderid = b.orderid
       GROUP BY a.itemid;
    END;
    CREATE PROCEDURE GetMonthlyItemOrders(IN p_itemid VARCHAR(40))
    BEGIN
      SELECT DATE_FORMAT(b.orderdate, '%M %Y') AS monthyear, SUM(a.quantity) AS monthlyordered
        FROM orderitems a LEFT JOIN orders b ON a.orderid = b.orderid
       WHERE itemid = p_itemid
       GROUP BY YEAR(b.orderdate), MONTH(b.orderdate)
       ORDER BY b.orderdate DESC;
    END;
  `);
}

/** The original projection of one stream record: one invocation per record (batch size 1). */
export async function projectOriginal(pool: Pool, order: Order): Promise<void> {
  await pool.query('CALL InsertOrder(?, ?, ?)', [order.orderId, 'created', order.orderedAt.slice(0, 19).replace('T', ' ')]);
  await Promise.all(order.items.map((line) => pool.query('CALL InsertOrderItem(?, ?, ?)', [order.orderId, line.itemid, line.quantity])));
}

/** Bulk-loads orders into the original tables (data set preparation, not measured). */
export async function loadOriginal(pool: Pool, orders: readonly Order[]): Promise<void> {
  await pool.query('INSERT INTO orders (orderid, orderstatus, orderdate) VALUES ?', [
    orders.map((order) => [order.orderId, 'created', order.orderedAt.slice(0, 19).replace('T', ' ')]),
  ]);
  await pool.query('INSERT INTO orderitems (orderitemid, orderid, itemid, quantity) VALUES ?', [
    orders.flatMap((order) => order.items.map((line) => [randomId(), order.orderId, line.itemid, line.quantity])),
  ]);
}

function randomId(): Buffer {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
}

/** The original item report (every call groups all order lines). */
export async function originalItemsReport(pool: Pool): Promise<unknown[]> {
  const [results] = await pool.query('CALL GetItemReport()');
  return (results as unknown[][])[0] ?? [];
}

/** The original monthly report of one item. */
export async function originalMonthly(pool: Pool, itemId: string): Promise<unknown[]> {
  const [results] = await pool.query('CALL GetMonthlyItemOrders(?)', [itemId]);
  return (results as unknown[][])[0] ?? [];
}
