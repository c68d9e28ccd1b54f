// Small inline icons (no icon font or CDN: the app works offline). All are decorative.
const base = { width: 20, height: 20, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 2, strokeLinecap: "round", strokeLinejoin: "round", "aria-hidden": true, focusable: false } as const;

export const MenuIcon = () => (
  <svg {...base}><path d="M4 6h16M4 12h16M4 18h16" /></svg>
);
export const PlusIcon = () => (
  <svg {...base}><path d="M12 5v14M5 12h14" /></svg>
);
export const SendIcon = () => (
  <svg {...base}><path d="M5 12h13M13 6l6 6-6 6" /></svg>
);
export const LogOutIcon = () => (
  <svg {...base}><path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 17l-5-5 5-5M5 12h11" /></svg>
);
export const RetryIcon = () => (
  <svg {...base} width={16} height={16}><path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7" /></svg>
);
export const CloseIcon = () => (
  <svg {...base}><path d="M6 6l12 12M18 6 6 18" /></svg>
);
export const ChatIcon = () => (
  <svg {...base} width={16} height={16}><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z" /></svg>
);

/** The machbot mark: a speech bubble with a heart-rate line. */
export const Logo = ({ size = 28 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <defs>
      <linearGradient id="mb-grad" x1="0" y1="0" x2="1" y2="1">
        <stop offset="0" stopColor="var(--logo-a)" />
        <stop offset="1" stopColor="var(--logo-b)" />
      </linearGradient>
    </defs>
    <path d="M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H14l-6 5v-5H6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z" fill="url(#mb-grad)" />
    <path d="M7 14h4l2-4 3 8 2-4h7" fill="none" stroke="#fff" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" />
  </svg>
);
