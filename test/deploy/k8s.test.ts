// deploy/k8s: every manifest parsed and validated against the Kubernetes schemas (kubernetes-models, offline),
// the fields a replica needs checked against the server's own settings, the GPU overlay's settings run on this
// CPU machine (start-up must fail, naming CUDA), and the batch Job's command run for every index, in-process
// and (its batch-server variant) against a real server with API keys on.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../scripts/batch/cli.ts';
import { hashKey, makeKey } from '../../server/auth-keys.ts';
import { envSchema, loadConfig } from '../../server/config.ts';
import { FIXED_TIMEOUTS } from '../../server/timeouts.ts';
import { modelsFolder, PHOTOS } from '../model/zoo.ts';
import { startServer } from '../server/server.ts';
import { buildDist, cleanEnv } from './compiled.ts';
import { dockerStages, execForm, instructionsOf, ROOT } from './dockerfile-stages.ts';
import { kustomize, readYaml, type Manifest } from './kustomize.ts';

const K8S = path.join(ROOT, 'deploy/k8s');
const MODELS = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/Job': Job,
} as const;

// the fields the checks read; the schema validation below vouches for the rest
interface Container {
  name: string;
  image: string;
  args?: string[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  resources: { requests: Record<string, string>; limits: Record<string, string | number> };
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  lifecycle: { preStop: { exec: { command: string[] } } };
  ports: Array<{ name: string; containerPort: number }>;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsUser: number; runAsNonRoot: boolean };
  containers: Container[];
  volumes: Array<{ name: string; secret?: { secretName: string; optional?: boolean } }>;
}
interface Workload {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const find = <T = Manifest>(manifests: Manifest[], kind: string): T => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as unknown as T;
};
const base = kustomize(path.join(K8S, 'base'));
const gpu = kustomize(path.join(K8S, 'overlays/gpu'));
const batch = kustomize(path.join(K8S, 'batch'));
const batchServer = kustomize(path.join(K8S, 'batch-server'));
const podOf = (manifests: Manifest[]) => find<Workload>(manifests, 'Deployment').spec.template.spec;
const configOf = (manifests: Manifest[]) => find<{ data: Record<string, string> }>(manifests, 'ConfigMap').data;

function validate(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}` as keyof typeof MODELS];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest as never).validate();
}

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
    .map((e) => path.join(e.parentPath, e.name));

describe('manifests', () => {
  it('every YAML file parses, and every object kubectl -k applies passes the Kubernetes schema', () => {
    expect(yamlFiles(K8S).length).toBeGreaterThanOrEqual(11);
    for (const file of yamlFiles(K8S)) expect(readYaml(file).length, file).toBeGreaterThan(0);
    const service = ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service'];
    expect(base.map((m) => m.kind).sort()).toEqual(service);
    expect(gpu.map((m) => m.kind).sort()).toEqual(service);
    expect(batch.map((m) => m.kind)).toEqual(['Job']);
    expect(batchServer.map((m) => m.kind)).toEqual(['Job']);
    for (const manifest of [...base, ...gpu, ...batch, ...batchServer]) validate(manifest);
  });

  it('the schema check rejects a broken manifest, naming the field', () => {
    const broken = structuredClone(find(base, 'Deployment')) as unknown as Workload;
    (broken.spec.template.spec.containers[0]!.readinessProbe.httpGet as { port: unknown }).port = { http: 8080 };
    expect(() => validate(broken as unknown as Manifest)).toThrow(/readinessProbe\/httpGet\/port/);
  });
});

describe('the Deployment', () => {
  const pod = podOf(base);
  const [container] = pod.containers;

  it('is ready on /readyz and alive on /healthz, on the port the server listens on', () => {
    expect(container!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const config = loadConfig(configOf(base));
    expect(container!.ports).toEqual([{ name: 'http', containerPort: config.port }]);
  });

  it('asks for CPUs and memory, and workers x threads fill its CPU limit', () => {
    expect(container!.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container!.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    const { TAGMAP_WORKERS, TAGMAP_THREADS } = configOf(base);
    expect(Number(TAGMAP_WORKERS) * Number(TAGMAP_THREADS)).toBe(Number(container!.resources.limits.cpu));
  });

  it('gives the preStop pause and the whole drain time to finish before the SIGKILL', () => {
    const [command, seconds] = container!.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThanOrEqual(5);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(seconds) * 1000 + FIXED_TIMEOUTS.drainDeadline.ms,
    );
  });

  it('reads its settings from the ConfigMap, each a setting the server knows and accepts', () => {
    expect(container!.envFrom).toEqual([{ configMapRef: { name: find(base, 'ConfigMap').metadata.name } }]);
    for (const data of [configOf(base), configOf(gpu)]) {
      expect(Object.keys(envSchema.shape)).toEqual(expect.arrayContaining(Object.keys(data)));
      expect(() => loadConfig(data)).not.toThrow();
    }
  });

  it('reads the API keys from the mounted Secret', () => {
    const keysFile = container!.env!.find((e) => e.name === 'TAGMAP_API_KEYS_FILE')!.value!;
    const volume = pod.volumes.find((v) => v.secret)!;
    expect(volume.secret).toEqual({ secretName: 'tagmap-api-keys', optional: true });
    const mount = container!.volumeMounts.find((m) => m.name === volume.name)!;
    expect(path.dirname(keysFile)).toBe(mount.mountPath);
  });

  it("runs as the images' non-root user", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    for (const target of ['cpu', 'gpu']) {
      const user = instructionsOf(dockerStages().get(target)!, 'USER').at(-1)!.getArgumentsContent()!;
      expect(user.split(':')[0]).toBe(String(pod.securityContext.runAsUser));
    }
  });

  it('is selected by the Service and the PodDisruptionBudget, and scaled by the HPA on CPU', () => {
    const deployment = find<Workload & Manifest>(base, 'Deployment');
    const labels = deployment.spec.template.metadata.labels;
    const service = find<{ spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } }>(
      base,
      'Service',
    );
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports[0]!.targetPort).toBe('http');
    const pdb = find<{ spec: { selector: { matchLabels: Record<string, string> }; minAvailable: number } }>(
      base,
      'PodDisruptionBudget',
    );
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    const hpa = find<{
      spec: {
        scaleTargetRef: { kind: string; name: string };
        minReplicas: number;
        metrics: Array<{ resource: { name: string } }>;
      };
    }>(base, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics.map((m) => m.resource.name)).toEqual(['cpu']);
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
  });
});

describe('the GPU overlay', () => {
  const folder = modelsFolder(['fashion']);
  beforeAll(() => void buildDist());
  afterAll(() => folder.remove());

  it('runs the gpu image with one GPU a pod and TAGMAP_DEVICE=cuda', () => {
    const [container] = podOf(gpu).containers;
    expect(container!.image).toBe('tagmap:gpu');
    expect(container!.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(configOf(gpu).TAGMAP_DEVICE).toBe('cuda');
    expect(podOf(base).containers[0]!.image).toBe('tagmap:cpu');
    expect(configOf(base).TAGMAP_DEVICE).toBe('cpu');
  });

  it('its settings, on a machine where CUDA cannot be used, stop start-up with a message naming CUDA', () => {
    const [command, ...args] = execForm(instructionsOf(dockerStages().get('gpu')!, 'CMD').at(-1)!);
    expect(command).toBe('node');
    const run = spawnSync(process.execPath, args, {
      cwd: ROOT,
      env: cleanEnv({ ...configOf(gpu), PORT: '0', HOST: '127.0.0.1', TAGMAP_MODELS: folder.dir }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.signal).toBeNull(); // it exited by itself, not by the timeout
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/TAGMAP_DEVICE=cuda but the CUDA execution provider could not start/);
  });
});

describe('the batch Indexed Job', () => {
  const job = find<{
    spec: { completionMode: string; completions: number; parallelism: number; template: { spec: PodSpec } };
  }>(batch, 'Job');
  const [container] = job.spec.template.spec.containers;
  const argsFor = (index: number) =>
    container!.args!.map((arg) => arg.replaceAll('$(JOB_COMPLETION_INDEX)', String(index)));

  it('is Indexed, and pod I takes shard I of completions into a file of its own', () => {
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions);
    const [node, script, ...cli] = container!.args!;
    expect([node, script]).toEqual(['node', 'dist/tag.mjs']);
    expect(cli[cli.indexOf('--shard') + 1]).toBe(`$(JOB_COMPLETION_INDEX)/${job.spec.completions}`);
    const outs = new Set<string>();
    for (let index = 0; index < job.spec.completions; index++) {
      const { settings } = parseCommandLine(argsFor(index).slice(2));
      expect(settings!.shard).toEqual({ index, count: job.spec.completions });
      expect(settings!.resume).toBe(true);
      outs.add(settings!.out!);
    }
    expect(outs.size).toBe(job.spec.completions);
  });

  it('run for every index, tags each input exactly once across the shard files, which cat merges', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'tagmap-job-'));
    const folder = modelsFolder(['fashion']);
    try {
      const photos = path.join(work, 'photos');
      const names = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];
      const inputs: string[] = [];
      mkdirSync(photos);
      mkdirSync(path.join(work, 'results'));
      for (let copy = 0; copy < 5; copy++) {
        for (const name of names) {
          const input = path.join(photos, `${copy}-${name}`);
          symlinkSync(path.join(PHOTOS, name), input);
          inputs.push(input);
        }
      }
      // the pod's paths on this machine, and a small models folder so that the 8 runs take seconds
      const local = (index: number) => [
        ...argsFor(index)
          .slice(1)
          .map((arg) => arg.replace(/^\/data\//, `${work}/`).replace(/^\/results\//, `${work}/results/`)),
        '--models',
        folder.dir,
      ];
      for (let index = 0; index < job.spec.completions; index += 2) {
        const pair = [index, index + 1].filter((i) => i < job.spec.completions);
        const codes = await Promise.all(
          pair.map(
            (i) =>
              new Promise<number | null>((resolve) =>
                spawn(process.execPath, local(i), { cwd: ROOT, env: cleanEnv({}), stdio: 'ignore' }).once(
                  'exit',
                  resolve,
                ),
              ),
          ),
        );
        expect(codes).toEqual(pair.map(() => 0));
      }
      const shardFiles = readdirSync(path.join(work, 'results'));
      expect(shardFiles.length).toBeGreaterThan(1);
      const merged = spawnSync('sh', ['-c', 'cat results/shard-*.jsonl'], { cwd: work, encoding: 'utf8' }).stdout;
      const rows = merged
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { input: string; ok: boolean });
      expect(rows.map((r) => r.input).sort()).toEqual([...inputs].sort());
      expect(rows.every((r) => r.ok)).toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
      folder.remove();
    }
  });
});

describe('the batch Job against the Service (deploy/k8s/batch-server)', () => {
  const job = find<{ spec: { completions: number; template: { spec: PodSpec } } }>(batchServer, 'Job');
  const [container] = job.spec.template.spec.containers;
  const argsFor = (index: number) =>
    container!.args!.map((arg) => arg.replaceAll('$(JOB_COMPLETION_INDEX)', String(index)));
  const local = find<{ spec: { template: { spec: PodSpec } } }>(batch, 'Job').spec.template.spec.containers[0]!;

  it('sends shard I to http://tagmap:8080 with the key of the Secret that docs/deployment.md creates', () => {
    const { secretKeyRef } = container!.env!.find((e) => e.name === 'TAGMAP_API_KEY')!.valueFrom!;
    const docs = readFileSync(path.join(ROOT, 'docs/deployment.md'), 'utf8');
    expect(docs).toContain(`kubectl create secret generic ${secretKeyRef!.name} --from-literal=${secretKeyRef!.key}=`);
    for (let index = 0; index < job.spec.completions; index++) {
      const { settings } = parseCommandLine(argsFor(index).slice(2), { TAGMAP_API_KEY: 'tgm_secret' });
      const inProcess = parseCommandLine(
        local.args!.map((arg) => arg.replaceAll('$(JOB_COMPLETION_INDEX)', String(index))).slice(2),
      ).settings!;
      expect(settings!.server!.href).toBe('http://tagmap:8080/');
      expect(settings!.apiKey).toEqual({ key: 'tgm_secret', from: 'TAGMAP_API_KEY' });
      expect(settings).toMatchObject({ inputs: inProcess.inputs, shard: inProcess.shard, out: inProcess.out });
      expect(settings!.resume).toBe(true);
    }
  });

  it('run for every index against a server with API keys on, tags each input exactly once', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'tagmap-job-server-'));
    const key = makeKey();
    writeFileSync(path.join(work, 'keys.json'), JSON.stringify({ keys: [{ name: 'batch', sha256: hashKey(key) }] }));
    const server = await startServer(['fashion'], { TAGMAP_API_KEYS_FILE: path.join(work, 'keys.json') });
    try {
      const inputs = ['chelsea.png', 'coffee.png', 'rocket.jpg', 'astronaut.png'].flatMap((name) =>
        [0, 1].map((copy) => path.join(work, 'photos', `${copy}-${name}`)),
      );
      mkdirSync(path.join(work, 'photos'));
      mkdirSync(path.join(work, 'results'));
      for (const input of inputs) symlinkSync(path.join(PHOTOS, path.basename(input).slice(2)), input);
      const run = (index: number) =>
        new Promise<number | null>((resolve) => {
          const args = argsFor(index)
            .slice(1)
            .map((arg) => (arg === 'http://tagmap:8080' ? server.url : arg))
            .map((arg) => arg.replace(/^\/data\//, `${work}/`).replace(/^\/results\//, `${work}/results/`));
          spawn(process.execPath, [...args, '--model', 'fashion'], {
            cwd: ROOT,
            env: cleanEnv({ TAGMAP_API_KEY: key }),
            stdio: 'ignore',
          }).once('exit', resolve);
        });
      for (let index = 0; index < job.spec.completions; index += 4) {
        const group = [0, 1, 2, 3].map((i) => index + i).filter((i) => i < job.spec.completions);
        expect(await Promise.all(group.map(run))).toEqual(group.map(() => 0));
      }
      const rows = readdirSync(path.join(work, 'results')).flatMap((file) =>
        readFileSync(path.join(work, 'results', file), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { input: string; ok: boolean }),
      );
      expect(rows.map((r) => r.input).sort()).toEqual([...inputs].sort());
      expect(rows.every((r) => r.ok)).toBe(true);
    } finally {
      await server.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
