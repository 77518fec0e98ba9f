import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { engineStore } from './ui/engineStore';
import { readUrlOptions } from './ui/params';
import './ui/styles/index.css';

const options = readUrlOptions();
const store = engineStore(options);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App store={store} options={options} />
  </StrictMode>,
);

// The app shell works offline after the first visit (production builds only: the dev server serves modules live).
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((e: unknown) => console.warn('[sw] not registered:', e));
  });
}
