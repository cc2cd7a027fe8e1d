-- Orders by when they were projected: a rebuild's catch-up reads the orders the
-- live projection wrote while it ran. An in-place index build that locks no
-- rows, on MySQL 8.0 and MariaDB 10.11 alike: projection writes go on meanwhile.
ALTER TABLE orders ADD INDEX orders_by_projected_at (projected_at), ALGORITHM = INPLACE, LOCK = NONE;
