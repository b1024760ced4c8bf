/** Turns network-level SDK failures into ServiceUnavailableError that names the service and endpoint. */
import { isConnectionError, ServiceUnavailableError } from '../errors.ts';

export async function withServiceErrors<T>(service: string, endpoint: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isAbort(error) && isConnectionError(error)) throw new ServiceUnavailableError(service, endpoint, error);
    throw error;
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'RequestAbortedError');
}
