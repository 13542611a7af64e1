// The operations entry (npm run ops): backup and restore, and the production install.
export { backupCommands, type BackupStatus, readBackupStatus } from './backup/commands';
export { installCommands } from './install/commands';
