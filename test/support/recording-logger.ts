/** A Logger (core/log.ts) that keeps its lines, for tests that assert what was logged and at which level. */
import type { LogFields, Logger, LogLevel } from '../../core/log.ts';

export interface LoggedLine {
  level: LogLevel;
  event: string;
  fields: LogFields;
}

export type RecordingLogger = Logger & {
  readonly lines: LoggedLine[];
  /** The events logged so far, in order. */
  events(): string[];
};

export function recordingLogger(lines: LoggedLine[] = [], base: LogFields = {}): RecordingLogger {
  const at = (level: LogLevel) => (event: string, fields: LogFields = {}) => void lines.push({ level, event, fields: { ...base, ...fields } });
  return {
    lines,
    events: () => lines.map((line) => line.event),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => recordingLogger(lines, { ...base, ...fields }),
  };
}
