/* Omniops chat widget loader. On a customer page:
 *   <script src="https://HOST/embed.js" data-customer="pk_…" async></script>
 * Asks HOST whether the widget may run on this origin, then adds a launcher and the chat iframe;
 * otherwise says why not. Plain ES5, no dependencies (kept under 2 KB gzipped). */
(function () {
  var script = document.currentScript;
  if (!script || window.__omniops) return;
  window.__omniops = true;
  var key = script.getAttribute('data-customer') || '';
  var base = new URL(script.src).origin;
  var box = document.createElement('div');
  box.setAttribute('data-omniops', '');
  box.style.cssText =
    'position:fixed;right:16px;bottom:16px;z-index:2147483647;display:flex;flex-direction:column;' +
    'align-items:flex-end;gap:8px;font:14px/1.4 system-ui,sans-serif';

  function notice(text) {
    var p = document.createElement('p');
    p.setAttribute('role', 'status');
    p.textContent = text;
    p.style.cssText = 'margin:0;padding:8px 12px;border-radius:8px;background:#fef2f2;color:#991b1b;max-width:280px';
    box.appendChild(p);
  }

  function widget(title) {
    var frame = document.createElement('iframe');
    frame.src = base + '/widget?key=' + encodeURIComponent(key);
    frame.title = title;
    frame.hidden = true;
    frame.style.cssText =
      'width:360px;max-width:calc(100vw - 32px);height:520px;max-height:calc(100vh - 96px);border:0;' +
      'border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff';
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Chat';
    button.setAttribute('aria-expanded', 'false');
    button.style.cssText =
      'padding:10px 18px;border:0;border-radius:999px;background:#2563eb;color:#fff;font:inherit;cursor:pointer';
    button.onclick = function () {
      frame.hidden = !frame.hidden;
      button.setAttribute('aria-expanded', String(!frame.hidden));
      button.textContent = frame.hidden ? 'Chat' : 'Close chat';
    };
    box.appendChild(frame);
    box.appendChild(button);
  }

  function mount() {
    document.body.appendChild(box);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);

  fetch(base + '/api/widget/config?key=' + encodeURIComponent(key)).then(
    function (response) {
      return response.json().then(function (body) {
        if (response.ok) return widget('Chat with ' + body.name);
        var code = body && body.error && body.error.code;
        notice(code === 'origin_not_allowed' ? 'This chat widget is not allowed on this site.' : 'Chat is unavailable here.');
      });
    },
    function () {
      // Offline: the widget keeps messages in this browser and sends them when it can.
      widget('Chat');
    },
  );
})();
