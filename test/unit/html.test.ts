import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, Html, html, raw } from '../../src/views/html.ts';

describe('html templates', () => {
  it('escapes every interpolated string', () => {
    const name = `<script>alert("x")</script> & 'más'`;
    assert.equal(
      html`<p title="${name}">${name}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;más&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;más&#39;</p>',
    );
  });

  it('escapes the five HTML specials and leaves other text alone', () => {
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
    assert.equal(
      escapeHtml('Contraseña ñ ó «No soy un robot»'),
      'Contraseña ñ ó «No soy un robot»',
    );
    assert.equal(
      escapeHtml('&amp;'),
      '&amp;amp;',
      'escaping is not skipped for text that looks escaped',
    );
  });

  it('renders numbers and true as text, and null, undefined and false as nothing', () => {
    assert.equal(html`${1}|${0}|${true}|${null}|${undefined}|${false}`.value, '1|0|true|||');
  });

  it('nests Html without escaping it twice', () => {
    const inner = html`<b>${'a < b'}</b>`;
    const outer = html`<p>${inner}</p>`;
    assert.ok(outer instanceof Html);
    assert.equal(outer.value, '<p><b>a &lt; b</b></p>');
    assert.equal(String(outer), outer.value);
  });

  it('joins arrays, escaping strings and keeping Html', () => {
    const items = ['<uno>', 'dos'].map((item) => html`<li>${item}</li>`);
    assert.equal(html`<ul>${items}</ul>`.value, '<ul><li>&lt;uno&gt;</li><li>dos</li></ul>');
    assert.equal(html`${['<a>', raw('<b>')]}`.value, '&lt;a&gt;<b>');
  });

  it('passes raw markup through unchanged', () => {
    assert.equal(
      html`<div>${raw('<span class="x">&nbsp;</span>')}</div>`.value,
      '<div><span class="x">&nbsp;</span></div>',
    );
  });

  it('does not trust a plain object that merely looks like Html', () => {
    const fake = { value: '<img src=x onerror=alert(1)>', toString: () => '<img>' };
    assert.equal(html`${fake as unknown as string}`.value, '&lt;img&gt;');
  });
});
