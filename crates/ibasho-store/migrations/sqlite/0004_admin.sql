-- An invitation can also give an existing account back its access (a lost device, a
-- forgotten password): it then names that account.
ALTER TABLE invitations ADD COLUMN reset_account TEXT REFERENCES accounts(id);
