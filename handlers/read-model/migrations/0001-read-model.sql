-- The read model: orders and their lines, plus the aggregates the queries read.
-- Runs on MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11.

CREATE TABLE IF NOT EXISTS orders (
  order_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ordered_at    DATETIME(3) NOT NULL,
  content_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  line_count    SMALLINT UNSIGNED NOT NULL,
  -- The transaction that projected the order; it tells a fresh insert from a replay.
  projection_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  projected_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (order_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS order_lines (
  order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  line_no  SMALLINT UNSIGNED NOT NULL,
  item_id  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id, line_no),
  KEY order_lines_by_item (item_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS item_totals (
  item_id         VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  total_ordered   BIGINT UNSIGNED NOT NULL,
  last_order_date DATE NOT NULL,
  PRIMARY KEY (item_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS item_monthly_totals (
  item_id         VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  month_start     DATE NOT NULL,
  monthly_ordered BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (item_id, month_start)
) ENGINE = InnoDB;
