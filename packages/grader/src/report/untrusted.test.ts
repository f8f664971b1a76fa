import { describe, expect, it } from 'vitest';
import { csvField } from './csv.js';
import { MAX_MESSAGE_CHARS, markdownCell, markdownLiteral, markdownQuote, plainText, TRUNCATED } from './untrusted.js';

describe('plainText', () => {
  it('writes control characters out as escapes and keeps newlines and tabs', () => {
    expect(plainText('a\u001b[2Jb\tc\nd\u0007e\u0000')).toBe('a\\x1b[2Jb\tc\nd\\x07e\\x00');
    expect(plainText('line\r\nnext\roverwrite')).toBe('line\nnext\\x0doverwrite');
    expect(plainText('C1 \u009b31m')).toBe('C1 \\x9b31m');
  });

  it('escapes bidirectional overrides, zero-width characters and line separators', () => {
    expect(plainText('file\u202egnp.exe')).toBe('file\\u202egnp.exe');
    expect(plainText('a\u200bb\u2028c\u2066d\ufeff')).toBe('a\\u200bb\\u2028c\\u2066d\\ufeff');
  });

  it('keeps ordinary Unicode text, including astral characters', () => {
    expect(plainText('✓ héllo 🎵 日本')).toBe('✓ héllo 🎵 日本');
  });

  it('replaces lone surrogates', () => {
    expect(plainText('a\ud800b\udc00')).toBe('a\ufffdb\ufffd');
  });

  it('bounds the length, counting the escapes, and says it cut', () => {
    const long = plainText('x'.repeat(5000));
    expect(long).toBe(`${'x'.repeat(MAX_MESSAGE_CHARS)}${TRUNCATED}`);
    const escapes = plainText('\u001b'.repeat(1000), 40);
    expect(escapes).toBe(`${'\\x1b'.repeat(10)}${TRUNCATED}`);
    expect(plainText('short', 5)).toBe('short');
  });
});

describe('markdown escaping', () => {
  it('turns HTML into entities and escapes Markdown punctuation', () => {
    expect(markdownLiteral('<script>alert(1)</script>')).toBe('&lt;script&gt;alert\\(1\\)&lt;\\/script&gt;');
    expect(markdownLiteral('[x](http://e.vil) ![i](y) **b** `c` a&b')).toBe(
      '\\[x\\]\\(http\\:\\/\\/e\\.vil\\) \\!\\[i\\]\\(y\\) \\*\\*b\\*\\* \\`c\\` a&amp;b',
    );
    expect(markdownLiteral('plain words 123 ✓')).toBe('plain words 123 ✓');
  });

  it('quotes every line, so no line can start a row, a heading or a list item', () => {
    const quoted = markdownQuote('ok\n| a | b |\n## heading\n- ✓ item\n\n    indented');
    expect(quoted.split('\n')).toEqual([
      '> ok',
      '> \\| a \\| b \\|',
      '> \\#\\# heading',
      '> \\- ✓ item',
      '>',
      '> &nbsp;&nbsp;&nbsp;&nbsp;indented',
    ]);
  });

  it('keeps a table cell on one line with its pipes escaped', () => {
    expect(markdownCell('a|b\nc')).toBe('a\\|b ⏎ c');
  });
});

describe('csvField', () => {
  it('neutralises formulas, also after spaces and in full-width forms', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('  =1')).toBe("'  =1");
    expect(csvField('＝1')).toBe("'＝1");
    expect(csvField(-3)).toBe('-3');
  });

  it('keeps each row on one line and quotes commas and quotes', () => {
    expect(csvField('a\nb\r\nc')).toBe('a ⏎ b ⏎ c');
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('plain')).toBe('plain');
  });
});
