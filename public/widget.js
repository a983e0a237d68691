/*
 * 832 在线客服 — buyer chat widget, embedded by the mall with one script tag:
 *
 *   <script src="https://kefu.example.com/widget.js" data-token="<signed buyer token>" async></script>
 *
 * The token is the mall's HMAC-signed buyer token (SPEC §4). The script adds a floating
 * 在线客服 button bottom-right; clicking it opens the chat (/chat?token=…) in an iframe served
 * from the same host as this script. Clicking again (or ×) closes it. Nothing else on the page
 * is touched.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__kefu832Widget) return;
  window.__kefu832Widget = true;
  var token = script.getAttribute('data-token') || '';
  var origin = new URL(script.src, window.location.href).origin;
  var chatUrl = origin + '/chat?token=' + encodeURIComponent(token);

  var css =
    '.kefu832-btn{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:6px;' +
    'padding:0 18px;height:44px;border:0;border-radius:22px;background:#c8282e;color:#fff;font:14px "PingFang SC","Microsoft YaHei",sans-serif;' +
    'box-shadow:0 4px 18px rgba(31,35,41,.25);cursor:pointer}' +
    '.kefu832-btn:hover{background:#a51f24}' +
    '.kefu832-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 96px);' +
    'border-radius:12px;overflow:hidden;box-shadow:0 8px 32px rgba(31,35,41,.3);background:#fff;display:none}' +
    '.kefu832-panel.open{display:block}' +
    '.kefu832-panel iframe{width:100%;height:100%;border:0}' +
    '.kefu832-close{position:absolute;top:8px;right:8px;width:28px;height:28px;border:0;border-radius:50%;' +
    'background:rgba(0,0,0,.2);color:#fff;font-size:18px;line-height:28px;cursor:pointer}' +
    '@media (max-width:480px){.kefu832-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}}';
  var style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);

  var panel = document.createElement('div');
  panel.className = 'kefu832-panel';
  var close = document.createElement('button');
  close.type = 'button';
  close.className = 'kefu832-close';
  close.setAttribute('aria-label', '关闭在线客服');
  close.textContent = '×';
  var frame = null;

  var button = document.createElement('button');
  button.type = 'button';
  button.className = 'kefu832-btn';
  button.setAttribute('aria-expanded', 'false');
  button.textContent = '💬 在线客服';

  function toggle(open) {
    if (open && !frame) {
      // Loaded on first open, so the chat only connects when the buyer wants it.
      frame = document.createElement('iframe');
      frame.title = '在线客服';
      frame.src = chatUrl;
      frame.setAttribute('allow', 'clipboard-write');
      panel.appendChild(frame);
    }
    panel.classList.toggle('open', open);
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
  }
  button.addEventListener('click', function () {
    toggle(!panel.classList.contains('open'));
  });
  close.addEventListener('click', function () {
    toggle(false);
  });
  panel.appendChild(close);

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
