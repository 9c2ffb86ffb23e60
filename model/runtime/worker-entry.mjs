// The file piscina starts in each worker thread. Node 20 worker threads do not apply `--import tsx` hooks to
// the modules they load, so this plain-JS entry registers tsx in the thread, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
const { default: infer } = await import('./worker.ts');
export default infer;
