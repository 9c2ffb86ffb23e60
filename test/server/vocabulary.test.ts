// Photo labels over HTTP: POST /v1/tags answers imagenet's photo labels by default, the raw classes with
// vocabulary=raw; aliases work in include; the settings' deny list (TAGMAP_TAGS_DENY) keeps labels out in both.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DOG_PHOTO } from '../model/zoo.ts';
import { photo, startServer, upload, type TestServer } from './server.ts';

let server: TestServer;
let denying: TestServer;
beforeAll(async () => {
  [server, denying] = await Promise.all([
    startServer(['imagenet', 'fashion']),
    startServer(['imagenet'], { TAGMAP_TAGS_DENY: 'kitten, Persian cat' }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.close(), denying?.close()]);
});

const tags = async (at: TestServer, query: string, bytes = photo('chelsea.png')) => {
  const res = await upload(`${at.url}/v1/tags?${query}`, bytes, 'image.png');
  return { status: res.status, body: await res.json() };
};

describe('POST /v1/tags with a vocabulary', () => {
  it('answers photo labels by default: "cat" with its categories and the raw classes behind it', async () => {
    const { status, body } = await tags(server, 'topK=3');
    const raw = await tags(server, 'topK=3&vocabulary=raw');
    const rawLabels = raw.body.tags.map((t: { label: string }) => t.label);
    expect(status).toBe(200);
    expect(body.tags[0]).toMatchObject({ label: 'cat', categories: ['animal'], finer: rawLabels[0] });
    expect(body.tags[0].classes.map((c: { label: string }) => c.label).slice(0, 3)).toEqual(rawLabels);
  });

  it('tags a dog photo "dog"', async () => {
    const { body } = await tags(server, 'topK=1', readFileSync(SHARED_DOG_PHOTO));
    expect(body.tags.map((t: { label: string }) => t.label)).toEqual(['dog']);
  });

  it('answers the raw classes with vocabulary=raw, and refuses photo for a model without a vocabulary', async () => {
    const { body } = await tags(server, 'vocabulary=raw&topK=2');
    expect(body.tags.map((t: { label: string }) => t.label)).toEqual(['Egyptian cat', 'tiger cat']);
    expect(body.tags[0].categories).toBeUndefined();
    const refused = await tags(server, 'model=fashion&vocabulary=photo');
    expect(refused).toMatchObject({
      status: 400,
      body: {
        code: 'bad_options',
        detail: 'vocabulary must be raw for model "fashion": its card names no photo vocabulary',
      },
    });
  });

  it('takes aliases in include, and names some labels for an unknown one', async () => {
    // dog scores below its own threshold here: the default leaves it out, a request's minScore decides alone
    expect((await tags(server, 'include=kitten,puppy')).body.tags.map((t: { label: string }) => t.label)).toEqual([
      'cat',
    ]);
    const { body } = await tags(server, 'include=kitten,puppy&minScore=0');
    expect(body.tags.map((t: { label: string }) => t.label)).toEqual(['cat', 'dog']);
    const unknown = await tags(server, 'include=unicorn');
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('unknown_label');
    expect(unknown.body.detail).toMatch(
      /^include: the vocabulary of model "imagenet" has no label "unicorn"; its labels/,
    );
  });

  it("keeps the deny list's labels out, photo labels and, through them, raw classes", async () => {
    const photoTags = await tags(denying, 'minScore=0&topK=20');
    expect(photoTags.body.tags.map((t: { label: string }) => t.label)).not.toContain('cat');
    const raw = await tags(denying, 'vocabulary=raw&minScore=0&topK=20');
    const labels = raw.body.tags.map((t: { label: string }) => t.label);
    expect(labels).not.toContain('Egyptian cat');
    expect(labels).not.toContain('Persian cat');
    expect(labels.length).toBeGreaterThan(0);
  });

  it('documents vocabulary in /openapi.json as photo or raw', async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    const param = document.paths['/v1/tags'].post.parameters.find((p: { name: string }) => p.name === 'vocabulary');
    expect(param.schema.enum).toEqual(['photo', 'raw']);
  });
});
