/**
 * The Aurora windows as the RDS API constrains them (CreateDBCluster,
 * PreferredBackupWindow and PreferredMaintenanceWindow): the format, UTC
 * times, at least 30 minutes, and a daily backup window that never meets the
 * weekly maintenance window, past midnight and past Sunday included.
 */
import { describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS, validateConfig } from '../../../config/environments';
import { parseBackupWindow, parseMaintenanceWindow, windowProblems } from '../../../config/maintenance-windows';

describe('maintenance and backup windows', () => {
  it('accept the documented formats, windows past midnight and past Sunday, and exactly 30 minutes', () => {
    expect(parseMaintenanceWindow('sun:04:00-sun:04:30')).toEqual({ start: 6 * 1440 + 240, length: 30 });
    expect(parseMaintenanceWindow('sun:23:45-mon:00:15')).toEqual({ start: 6 * 1440 + 1425, length: 30 });
    expect(parseMaintenanceWindow('fri:22:00-sat:02:00')).toEqual({ start: 4 * 1440 + 1320, length: 240 });
    expect(parseBackupWindow('23:45-00:15')).toEqual({ start: 1425, length: 30 });
    expect(windowProblems('sun:04:00-sun:04:30', '03:00-03:30')).toEqual([]);
  });

  it('refuse another format, a day name RDS does not take, an hour past 23, and anything shorter than 30 minutes', () => {
    expect(parseMaintenanceWindow('Sun:04:00-Sun:04:30')).toMatch(/^must be ddd:hh24:mi-ddd:hh24:mi in UTC/);
    expect(parseMaintenanceWindow('sunday:04:00-sunday:04:30')).toMatch(/^must be ddd:hh24:mi-ddd:hh24:mi/);
    expect(parseMaintenanceWindow('04:00-04:30')).toMatch(/^must be ddd:hh24:mi-ddd:hh24:mi/);
    expect(parseMaintenanceWindow('sun:24:00-mon:00:30')).toMatch(/^must be ddd:hh24:mi-ddd:hh24:mi/);
    expect(parseMaintenanceWindow('sun:04:00-sun:04:29')).toBe('must be at least 30 minutes long, got 29 (sun:04:00-sun:04:29)');
    expect(parseMaintenanceWindow('sun:04:00-sun:04:00')).toBe('must be at least 30 minutes long, got 0 (sun:04:00-sun:04:00)');
    expect(parseBackupWindow('3:00-3:30')).toMatch(/^must be hh24:mi-hh24:mi in UTC/);
    expect(parseBackupWindow('mon:03:00-mon:03:30')).toMatch(/^must be hh24:mi-hh24:mi in UTC/);
    expect(parseBackupWindow('23:50-00:10')).toBe('must be at least 30 minutes long, got 20 (23:50-00:10)');
  });

  it('refuse a backup window that meets the maintenance window on any day, and allow one that only touches it', () => {
    expect(windowProblems('tue:03:15-tue:03:45', '03:00-03:30')).toEqual([
      'aurora.backupWindow 03:00-03:30 overlaps aurora.maintenanceWindow tue:03:15-tue:03:45 (on tue): RDS requires them not to conflict',
    ]);
    // The maintenance window runs past Sunday into Monday's backup.
    expect(windowProblems('sun:23:50-mon:00:30', '00:00-00:30')).toEqual([
      'aurora.backupWindow 00:00-00:30 overlaps aurora.maintenanceWindow sun:23:50-mon:00:30 (on mon): RDS requires them not to conflict',
    ]);
    // The backup runs past midnight into Monday's maintenance (it starts on Sunday).
    expect(windowProblems('mon:00:00-mon:00:30', '23:45-00:15')).toEqual([
      'aurora.backupWindow 23:45-00:15 overlaps aurora.maintenanceWindow mon:00:00-mon:00:30 (on sun): RDS requires them not to conflict',
    ]);
    // A long maintenance window covers a whole day's backup.
    expect(windowProblems('wed:00:00-thu:00:00', '12:00-12:30')).toHaveLength(1);
    expect(windowProblems('sun:03:30-sun:04:00', '03:00-03:30')).toEqual([]);
  });

  it('reach the configuration: every shipped environment passes, and a bad pair is refused naming both fields', () => {
    for (const config of Object.values(ENVIRONMENTS)) expect(windowProblems(config.aurora.maintenanceWindow, config.aurora.backupWindow)).toEqual([]);
    const clash = { ...ENVIRONMENTS.dev, aurora: { ...ENVIRONMENTS.dev.aurora, maintenanceWindow: 'sun:03:00-sun:03:30', backupWindow: '03:15-03:45' } };
    expect(() => validateConfig(clash)).toThrow('aurora.backupWindow 03:15-03:45 overlaps aurora.maintenanceWindow sun:03:00-sun:03:30 (on sun)');
  });
});
