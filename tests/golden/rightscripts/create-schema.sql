-- ---
-- RightScript Name: Create Schema
-- Description: 'Creates the application schema. Note: safe to run twice.'
-- Inputs: {}
-- Attachments: []
-- ...
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
