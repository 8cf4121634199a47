import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is a static build served under /console/ (locally by the API gateway, on AWS by CloudFront),
// calling the REST API on the same origin: no CDN, no second server.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
