/**
 * One small structured logger: text lines for people, JSON lines for machines (LOG_JSON=1).
 * Every line passes through redactSecrets, so a library error that quotes a token cannot leak it.
 */
import { redactSecrets } from './config.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  fields?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const emit = (at: LogLevel, message: string, fields: LogFields = {}) => {
    if (RANK[at] < RANK[level]) return;
    const all = { ...base, ...fields };
    const line = options.json
      ? JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...all }, errorReplacer)
      : `${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}${Object.keys(all).length ? ` ${JSON.stringify(all, errorReplacer)}` : ''}`;
    write(redactSecrets(line));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** Errors log as name + message (no stack in the line; stacks go to debug when wanted). */
function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
