/** `/login`: a token, kept in an HttpOnly cookie; or a note that this server needs none. */
import type { WhoAmIJson } from '../../api-types.js';
import { h, replace } from '../dom.js';
import { layout } from '../layout.js';

export function loginPage(app: HTMLElement, me: WhoAmIJson): void {
  const params = new URLSearchParams(location.search);
  const next = params.get('next') ?? '/';
  const content = !me.authRequired
    ? h('div', { class: 'card narrow' }, h('h1', {}, 'No sign-in needed'), h('p', {}, 'This server runs without authentication: everyone who reaches it may read and write.'), h('a', { href: '/' }, 'Go to the sessions →'))
    : h(
        'form',
        { method: 'post', action: '/login', class: 'card narrow login' },
        h('h1', {}, 'Sign in'),
        me.principal ? h('p', {}, `Signed in as ${me.principal}.`) : null,
        params.get('failed') ? h('div', { class: 'error', role: 'alert' }, 'That token is not valid.') : null,
        h('label', { class: 'stack' }, 'Access token', h('input', { type: 'password', name: 'token', required: true, autocomplete: 'current-password', autofocus: true })),
        h('input', { type: 'hidden', name: 'next', value: next }),
        h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
        h('p', { class: 'muted' }, 'The same token as for the gRPC API. Scripts can send it as ', h('code', {}, 'Authorization: Bearer …'), ' instead.'),
      );
  replace(app, layout(me, 'login', content));
}
