/** Module worker for backend.html: runs the probe inside the worker and posts the result back. */
import { probe } from './backendProbe';

addEventListener('message', (event: MessageEvent<{ requested: string; strict: boolean }>) => {
  void probe('worker', event.data.requested, event.data.strict).then((result) => postMessage(result));
});
