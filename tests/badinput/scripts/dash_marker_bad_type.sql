-- expect-line: 8
-- expect: invalid Input Type 'table'
-- expect-hint: Input Type: single
-- ---
-- RightScript Name: Schema
-- Inputs:
--   SCHEMA:
--     Input Type: table
-- ...
CREATE SCHEMA IF NOT EXISTS app;
