// The one error the importer and verifier throw for a model they cannot take; the scripts print its message.
import { readFileSync } from 'node:fs';
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** A file the import needs, or an ImportError naming it. */
export function readImportFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ImportError(`cannot read ${file}: ${(error as Error).message}`);
  }
}
