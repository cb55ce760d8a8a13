/** The frame around every page: header with navigation, who is signed in, and the live indicator. */
import type { WhoAmIJson } from '../api-types.js';
import { h, type Child } from './dom.js';
import { onLiveState, type LiveState } from './live.js';

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting…',
  stopped: 'not live',
};

export function layout(me: WhoAmIJson | undefined, active: 'sessions' | 'integrity' | 'login', ...content: Child[]): HTMLElement {
  const live = h('span', { class: 'live', 'data-live': 'connecting', title: 'Live updates' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'live-text' }, 'connecting'));
  onLiveState((state) => {
    live.dataset.live = state;
    (live.querySelector('.live-text') as HTMLElement).textContent = LIVE_TEXT[state];
  });
  const navLink = (href: string, label: string, name: typeof active) =>
    h('a', { href, class: name === active ? 'active' : undefined, 'aria-current': name === active ? 'page' : undefined }, label);
  const who = me?.authRequired
    ? me.principal
      ? h('form', { method: 'post', action: '/logout', class: 'who' }, h('span', {}, me.principal), h('button', { type: 'submit', class: 'link' }, 'Sign out'))
      : h('a', { href: '/login', class: 'who' }, 'Sign in')
    : null;
  return h(
    'div',
    { class: 'frame' },
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', class: 'brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 22, height: 22 }), 'varledger'),
      h('nav', {}, navLink('/', 'Sessions', 'sessions'), navLink('/integrity', 'Integrity', 'integrity')),
      h('div', { class: 'top-right' }, live, who),
    ),
    h('main', {}, ...content),
  );
}

export function errorBox(error: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
}
