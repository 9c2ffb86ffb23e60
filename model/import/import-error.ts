// The one error the importer and verifier throw for a model they cannot take; the scripts print its message.
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}
