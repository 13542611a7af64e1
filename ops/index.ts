// The operations entry (npm run ops): backup and restore commands for the operator's CLI.
export { backupCommands, type BackupStatus, readBackupStatus } from './backup/commands';
