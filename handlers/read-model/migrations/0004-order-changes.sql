-- Orders that change (cancelOrder): each order's status and revision, and the
-- per-item-per-day totals that give an item's last order date back when its
-- latest order stops counting (one primary-key lookup, not a scan of the
-- item's orders). Runs on MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11.

-- Columns added at the end with defaults: instant on both servers, no copy, no lock.
-- Every order projected before this migration is a created order at revision 1.
ALTER TABLE orders
  ADD COLUMN status   VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'created',
  ADD COLUMN revision INT UNSIGNED NOT NULL DEFAULT 1,
  ALGORITHM = INSTANT;

-- Made and filled by one statement from the orders already projected (all of
-- them count). A projection batch that runs meanwhile waits for the shared
-- locks this takes on the orders it reads, or fails on the missing table and
-- is retried by the stream: none is counted twice or missed. Cost: one scan of
-- order_lines joined to orders, once.
CREATE TABLE IF NOT EXISTS item_daily_totals (
  item_id       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  order_date    DATE NOT NULL,
  daily_ordered BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (item_id, order_date)
) ENGINE = InnoDB
  SELECT l.item_id AS item_id, CAST(o.ordered_at AS DATE) AS order_date, SUM(l.quantity) AS daily_ordered
    FROM order_lines l JOIN orders o ON o.order_id = l.order_id
   GROUP BY l.item_id, CAST(o.ordered_at AS DATE);
