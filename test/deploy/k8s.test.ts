// deploy/k8s rendered offline with `kubectl kustomize` (skipped, saying so,
// where kubectl is absent) and every object validated against the Kubernetes
// schema (kubernetes-models: types, required fields, enums); then what the
// schema cannot say: one StatefulSet per data file behind its own headless
// Service, readiness on /v1/health, the token from a Secret, data from the
// PersistentVolumeClaim, an Indexed Job whose completions equal the world
// size it sets, mapping through --rank auto onto ranks 0..W-1, and
// TTTNN_ADDRESSES naming exactly the servers' stable DNS names. Every knob of
// deploy/ (k8s ConfigMap keys, deploy/slurm/config.sh) must be in README.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, type IConfigMap, type IContainer, type IPodSpec, type IService } from 'kubernetes-models/v1';
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { parseAllDocuments } from 'yaml';
import { rankFromEnvironment } from '../../src/cli/scheduler-rank.js';
import { parseAddressList } from '../../src/retrieval/addresses.js';

const K8S = resolve('deploy/k8s');
const README = readFileSync(resolve('README.md'), 'utf8');
const kubectlMissing = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? undefined : 'kubectl is not installed: the Kustomize overlays cannot be rendered here (kubectl 1.32 with Kustomize 5.5 renders them offline)';

/** A rendered object: every one has these; the checks below read each kind through its model's interface. */
interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/ConfigMap': ConfigMap, 'v1/Service': Service, 'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/StatefulSet': StatefulSet, 'batch/v1/Job': Job,
};

function render(overlay: string): Rendered[] {
  const run = spawnSync('kubectl', ['kustomize', resolve(K8S, overlay)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as Rendered);
}

function validate(o: Rendered): void {
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(model, `${o.kind} ${o.metadata.name}: not a kind this deployment should contain`);
  try {
    new model(o as never).validate();
  } catch (error) {
    assert.fail(`${o.kind} ${o.metadata.name}: ${(error as Error).message}`);
  }
}

function ofKind<T>(objects: Rendered[], kind: string): (T & Rendered)[] {
  return objects.filter((o) => o.kind === kind) as (T & Rendered)[];
}
const env = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
const podSpec = (o: { spec?: { template: { spec?: IPodSpec } } }): IPodSpec => o.spec!.template.spec!;

/** The Secret and the volume claims a pod mounts. */
function checkVolumes(spec: IPodSpec, what: string, claims: string[]): void {
  const volumes = spec.volumes ?? [];
  for (const claim of claims) assert.ok(volumes.some((v) => v.persistentVolumeClaim?.claimName === claim), `${what}: mounts ${claim}`);
  const token = volumes.find((v) => v.secret);
  if (token) assert.deepEqual([token.secret!.secretName, token.secret!.defaultMode], ['tttnn-token', 0o400], `${what}: the token from the Secret, owner-only`);
}

function checkServers(objects: Rendered[], config: Record<string, string>): void {
  const services = ofKind<IService>(objects, 'Service');
  const sets = ofKind<IStatefulSet>(objects, 'StatefulSet');
  const expected: string[] = [];
  const files = new Set<string>();
  for (const set of sets) {
    const name = set.metadata.name;
    const service = services.find((s) => s.metadata.name === set.spec!.serviceName);
    assert.ok(service, `${name}: its Service ${set.spec!.serviceName} exists`);
    assert.equal(service.spec!.clusterIP, 'None', `${name}: the Service is headless`);
    for (const other of sets) {
      const labels = other.spec!.template.metadata!.labels!;
      assert.equal(selects(service.spec!.selector!, labels), other === set, `${service.metadata.name} selects the pods of ${other.metadata.name}: ${other === set}`);
    }
    assert.ok(selects(set.spec!.selector.matchLabels!, set.spec!.template.metadata!.labels!));
    const container = podSpec(set).containers[0]!;
    assert.equal(container.readinessProbe?.httpGet?.path, '/v1/health', `${name}: readiness on /v1/health`);
    checkVolumes(podSpec(set), name, ['tttnn-data']);
    files.add(env(container, 'TTTNN_DATA_FILE')!);
    for (let pod = 0; pod < set.spec!.replicas!; pod++) {
      for (let slice = 0; slice < Number(config['TTTNN_SLICES']); slice++) expected.push(`${name}-${pod}.${service.metadata.name}:${8080 + slice}`);
    }
  }
  assert.equal(files.size, sets.length, 'one StatefulSet per data file');
  assert.deepEqual(parseAddressList(config['TTTNN_ADDRESSES']!).sort(), expected.sort(), 'TTTNN_ADDRESSES lists every server\'s DNS name');
  assert.equal(Number(config['TTTNN_SERVERS']), expected.length, 'TTTNN_SERVERS counts them');
}

/** The Indexed Job: completions = TTTNN_WORLD_SIZE, and each index maps to its own rank. */
function checkEvaluation(objects: Rendered[]): number {
  const [job] = ofKind<IJob>(objects, 'Job');
  assert.equal(job!.spec!.completionMode, 'Indexed');
  const container = podSpec(job!).containers[0]!;
  const worldSize = Number(env(container, 'TTTNN_WORLD_SIZE'));
  assert.equal(job!.spec!.completions, worldSize, 'completions = TTTNN_WORLD_SIZE');
  assert.match(container.args!.join(' '), /--rank auto --world-size auto/);
  const ranks = Array.from({ length: worldSize }, (_, index) => rankFromEnvironment({ JOB_COMPLETION_INDEX: String(index), TTTNN_WORLD_SIZE: String(worldSize) }));
  assert.deepEqual(ranks.map((r) => r.rank), Array.from({ length: worldSize }, (_, i) => i));
  assert.ok(ranks.every((r) => r.worldSize === worldSize));
  checkVolumes(podSpec(job!), 'tttnn-eval', ['tttnn-data', 'tttnn-results']);
  assert.match(podSpec(job!).initContainers![0]!.args!.join(' '), /probe --wait "\$TTTNN_SERVERS"/, 'waits for the servers first');
  return worldSize;
}

test('the schema check is real: a malformed object is refused', () => {
  assert.throws(() => new Job({ metadata: { name: 'x' }, spec: { completions: '3' as never, template: { spec: { containers: [] } } } }).validate(), /completions must be integer/);
});

for (const [overlay, files, worldSize] of [['demo', 2, 3], ['pile', 30, 30], ['pile-compressed', 30, 30]] as const) {
  test(`overlays/${overlay}: renders, validates, ${files} data files behind headless Services, an Indexed Job of ${worldSize} ranks`, { skip: kubectlMissing }, () => {
    const objects = render(`overlays/${overlay}`);
    for (const o of objects) validate(o);
    assert.equal(ofKind(objects, 'StatefulSet').length, files);
    const [config] = ofKind<IConfigMap>(objects, 'ConfigMap');
    for (const o of [...ofKind<IStatefulSet>(objects, 'StatefulSet'), ...ofKind<IJob>(objects, 'Job')]) {
      const refs = [...podSpec(o).containers, ...(podSpec(o).initContainers ?? [])].flatMap((c) => c.envFrom ?? []);
      assert.ok(refs.length > 0 && refs.every((r) => r.configMapRef?.name === config!.metadata.name), `${o.metadata.name}: reads the generated ConfigMap`);
    }
    checkServers(objects, config!.data!);
    assert.equal(checkEvaluation(objects), worldSize);
    const report = render(`overlays/${overlay}/report`);
    for (const o of report) validate(o);
    assert.deepEqual(report.map((o) => `${o.kind}/${o.metadata.name}`), ['Job/tttnn-report']);
    checkVolumes(podSpec(ofKind<IJob>(report, 'Job')[0]!), 'tttnn-report', ['tttnn-results']);
  });
}

test('overlays/pile-compressed: an Indexed Job converts the 30 Flat files into the volume each file\'s servers read with --nprobe, in a fraction of the memory', { skip: kubectlMissing }, () => {
  const convert = render('overlays/pile-compressed/convert');
  for (const o of convert) validate(o);
  const [job] = ofKind<IJob>(convert, 'Job');
  assert.equal(job!.spec!.completionMode, 'Indexed');
  assert.deepEqual([job!.spec!.completions, job!.spec!.parallelism], [30, 30]);
  const container = podSpec(job!).containers[0]!;
  assert.match(container.args!.join(' '), /index convert --input "\/data\/indexes\/\$file\.index" --out \/indexes\s+--factory "\$TTTNN_CONVERT_FACTORY"/);
  const mount = (c: IContainer, name: string) => c.volumeMounts!.find((m) => m.name === name);
  assert.equal(mount(container, 'indexes')?.readOnly, undefined, 'the conversion writes the indexes volume');
  const claim = (spec: IPodSpec, name: string) => spec.volumes!.find((v) => v.name === name)?.persistentVolumeClaim?.claimName;
  assert.equal(claim(podSpec(job!), 'indexes'), 'tttnn-indexes');
  assert.ok(ofKind<Rendered>(convert, 'PersistentVolumeClaim').some((c) => c.metadata.name === 'tttnn-indexes'));
  // Pod i converts printf(TTTNN_CONVERT_NAME, i): exactly the files the servers serve, from where they read them.
  const pattern = env(container, 'TTTNN_CONVERT_NAME')!;
  const converted = Array.from({ length: 30 }, (_, i) => pattern.replace('%02d', String(i).padStart(2, '0')));
  const objects = render('overlays/pile-compressed');
  const sets = ofKind<IStatefulSet>(objects, 'StatefulSet');
  assert.deepEqual(sets.map((s) => env(podSpec(s).containers[0]!, 'TTTNN_DATA_FILE')).sort(), converted);
  for (const set of sets) {
    const serve = podSpec(set).containers[0]!;
    assert.match(serve.args!.join(' '), /--index "\/indexes\/\$TTTNN_DATA_FILE\.index"/);
    assert.equal(mount(serve, 'indexes')?.mountPath, '/indexes');
    assert.equal(claim(podSpec(set), 'indexes'), 'tttnn-indexes');
    assert.equal(serve.resources!.limits!['memory'], '4Gi', 'a compressed index: 4 GiB, not the Flat index\'s 256');
  }
  const [config] = ofKind<IConfigMap>(objects, 'ConfigMap');
  assert.match(config!.data!['TTTNN_SERVE_ARGS']!, /--nprobe \d+/);
});

test('every knob of deploy/ is documented in README', () => {
  const slurm = [...readFileSync(resolve('deploy/slurm/config.sh'), 'utf8').matchAll(/\b(TTTNN_[A-Z_]+)\b/g)].map((m) => m[1]!);
  const k8s = [...readFileSync(resolve(K8S, 'overlays/pile/kustomization.yaml'), 'utf8').matchAll(/^ {6}- (TTTNN_[A-Z_]+)=/gm)].map((m) => m[1]!);
  assert.ok(slurm.length >= 20 && k8s.length >= 8, `found ${slurm.length} Slurm and ${k8s.length} Kubernetes knobs`);
  const undocumented = [...new Set([...slurm, ...k8s, 'TTTNN_WORLD_SIZE', 'TTTNN_REPORT_ARGS'])].filter((k) => !README.includes(`\`${k}\``));
  assert.deepEqual(undocumented, [], 'knobs missing from README');
});
