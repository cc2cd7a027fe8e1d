-- The read model's generation: a random id made with the schema. A read model
-- made again (a new database, or a local runtime's clear) gets a new one, so a
-- rebuild's saved state can tell whether it belongs to the read model it finds.
CREATE TABLE IF NOT EXISTS read_model_generation (
  id         TINYINT UNSIGNED NOT NULL,
  generation CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id)
) ENGINE = InnoDB;

INSERT IGNORE INTO read_model_generation (id, generation) VALUES (1, MD5(CONCAT(UUID(), RAND())));
