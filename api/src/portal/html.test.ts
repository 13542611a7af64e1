import { describe, expect, it } from 'vitest';
import { html } from './html';

describe('html templates', () => {
  it('escapes what is interpolated', () => {
    expect(html`<p title="${'"x"'}">${'<b>'}</p>`.text).toBe('<p title="&quot;x&quot;">&lt;b&gt;</p>');
  });

  it('reads a line break as layout: gone next to a tag, one space elsewhere', () => {
    const name = 'x';
    const page = html`<p class="lead"
      id="${name}">one
      two</p>
      <p>${name}
      three</p>`;
    expect(page.text).toBe('<p class="lead" id="x">one two</p><p>x three</p>');
  });
});
