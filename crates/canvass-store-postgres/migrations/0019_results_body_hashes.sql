-- SQLite's migration 0019 gives snapshot file rows a lean table of body hashes to check their
-- foreign key against (its WITHOUT ROWID bodies table made each check slow). PostgreSQL keeps
-- a primary key in its own index already; nothing changes here, and the number keeps the two
-- backends' migrations aligned.
SELECT 1;
