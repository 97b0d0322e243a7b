// ClientNodeIT: the unmodified @kubernetes/client-node against kvx, one scenario per run:
//   node client-node-it.mjs <scenario>     (KUBECONFIG names kvx's kubeconfig; KVX_NS the namespace to use)
// Prints "ok <scenario>" and exits 0, or prints the failure and exits 1.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';

const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const ns = process.env.KVX_NS || 'clientnode';
const core = kc.makeApiClient(k8s.CoreV1Api);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last : ''}`);
}

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

const cm = (name, labels = {}, data = {}) => ({ metadata: { name, labels }, data });
const status = (e) => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body);

async function ensureNamespace() {
  await until(`namespace ${ns} to finish deleting`, async () => {
    try {
      const n = await core.readNamespace({ name: ns });
      return !n.metadata.deletionTimestamp;
    } catch (e) {
      return e.code === 404;
    }
  }, 60000);
  try {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  } catch (e) {
    if (e.code !== 409) throw e;
  }
}

const scenarios = {
  async versionAndDiscovery() {
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(v.major, '1');
    assert.match(v.gitVersion, /^v1\./);
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    assert.ok(groups.groups.some((g) => g.name === 'apps'));
    const coreVersions = await kc.makeApiClient(k8s.CoreApi).getAPIVersions();
    assert.deepEqual(coreVersions.versions, ['v1']);
    const apps = await kc.makeApiClient(k8s.AppsV1Api).getAPIResources();
    assert.ok(apps.resources.some((r) => r.name === 'deployments' && r.namespaced));
  },

  async serviceAccountToken() {
    try {
      await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'robot' } } });
    } catch (e) {
      if (e.code !== 409) throw e;
    }
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'robot', namespace: ns, body: { spec: { expirationSeconds: 600 } },
    });
    // the in-cluster shape: server, CA and a bearer token, no client certificate
    const robot = new k8s.KubeConfig();
    robot.loadFromOptions({
      clusters: [{ name: 'c', server: kc.getCurrentCluster().server, caData: kc.getCurrentCluster().caData }],
      users: [{ name: 'robot', token: tr.status.token }],
      contexts: [{ name: 'c', cluster: 'c', user: 'robot' }],
      currentContext: 'c',
    });
    // RBAC: nothing until a binding grants it, then what the Role says
    const denied = await rejects(robot.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: ns }));
    assert.equal(denied.code, 403);
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'robot-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'robot-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'robot-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: ns }] } });
    for (let i = 0; ; i++) {
      try {
        await robot.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: ns });
        break;
      } catch (err) {
        if (err.code !== 403 || i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const strangerConfig = new k8s.KubeConfig();
    strangerConfig.loadFromOptions({
      clusters: [{ name: 'c', server: kc.getCurrentCluster().server, caData: kc.getCurrentCluster().caData }],
      users: [{ name: 'x', token: 'not-a-token' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'x' }],
      currentContext: 'c',
    });
    const e = await rejects(strangerConfig.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: ns }));
    assert.equal(e.code, 401);
  },

  async crudSelectorsPagingAndErrors() {
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedConfigMap({
        namespace: ns, body: cm(`page-${i}`, { app: 'paging', parity: i % 2 ? 'odd' : 'even' }, { i: String(i) }),
      });
    }
    const even = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=paging,parity=even' });
    assert.equal(even.items.length, 3);
    const byField = await core.listNamespacedConfigMap({ namespace: ns, fieldSelector: 'metadata.name=page-3' });
    assert.deepEqual(byField.items.map((c) => c.metadata.name), ['page-3']);
    const seen = new Set();
    let cont;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=paging', limit: 2, _continue: cont });
      page.items.forEach((c) => seen.add(c.metadata.name));
      cont = page.metadata._continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.equal(seen.size, 5);

    const notFound = await rejects(core.readNamespacedConfigMap({ name: 'no-such', namespace: ns }));
    assert.ok(notFound instanceof k8s.ApiException, String(notFound));
    assert.equal(notFound.code, 404);
    assert.equal(status(notFound).reason, 'NotFound');

    const exists = await rejects(core.createNamespacedConfigMap({ namespace: ns, body: cm('page-0') }));
    assert.equal(exists.code, 409);
    assert.equal(status(exists).reason, 'AlreadyExists');

    const stale = await core.readNamespacedConfigMap({ name: 'page-0', namespace: ns });
    const fresh = await core.readNamespacedConfigMap({ name: 'page-0', namespace: ns });
    fresh.data.edited = 'yes';
    await core.replaceNamespacedConfigMap({ name: 'page-0', namespace: ns, body: fresh });
    stale.data.i = 'stale';
    const conflict = await rejects(core.replaceNamespacedConfigMap({ name: 'page-0', namespace: ns, body: stale }));
    assert.equal(conflict.code, 409);
    assert.equal(status(conflict).reason, 'Conflict');

    const dry = await core.createNamespacedConfigMap({ namespace: ns, body: cm('dry', {}, { a: 'b' }), dryRun: 'All' });
    assert.equal(dry.metadata.name, 'dry');
    assert.equal((await rejects(core.readNamespacedConfigMap({ name: 'dry', namespace: ns }))).code, 404);

    await core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector: 'app=paging' });
    assert.equal((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=paging' })).items.length, 0);
  },

  async patchStrategies() {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('patched', { a: '1' }, { k1: 'v1' }) });
    const patch = (body, type) => core.patchNamespacedConfigMap({ name: 'patched', namespace: ns, body },
      k8s.setHeaderOptions('Content-Type', type));
    let r = await patch([{ op: 'add', path: '/data/k2', value: 'v2' }], k8s.PatchStrategy.JsonPatch);
    assert.deepEqual(r.data, { k1: 'v1', k2: 'v2' });
    r = await patch({ data: { k1: null } }, k8s.PatchStrategy.MergePatch);
    assert.deepEqual(r.data, { k2: 'v2' });
    r = await patch({ metadata: { labels: { b: '2' } } }, k8s.PatchStrategy.StrategicMergePatch);
    assert.deepEqual(r.metadata.labels, { a: '1', b: '2' });
    // the generated API defaults to JSON patch when no Content-Type is chosen
    r = await core.patchNamespacedConfigMap({ name: 'patched', namespace: ns,
      body: [{ op: 'replace', path: '/data/k2', value: 'v3' }] });
    assert.equal(r.data.k2, 'v3');
    const applied = await core.patchNamespacedConfigMap({ name: 'applied', namespace: ns, fieldManager: 'client-node-it',
      force: true, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { x: '1' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply));
    assert.equal(applied.data.x, '1');
  },

  async deploymentsTyped() {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: {
        metadata: { labels: { app: 'web' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'sleep 3600'] }] },
      } },
    } });
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: ns });
    assert.equal(scale.spec.replicas, 1);
    await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: ns, body: { spec: { replicas: 2 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await until('two ready replicas', async () =>
      (await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).status?.readyReplicas === 2, 90000);
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns, propagationPolicy: 'Foreground' });
    await until('the pods to go', async () =>
      (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.length === 0, 60000);
  },

  async watchAddModifyDeleteAndGone() {
    const events = [];
    let doneErr;
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'watched=yes', allowWatchBookmarks: true },
      (type, obj) => { if (type !== 'BOOKMARK') events.push(`${type} ${obj.metadata.name}`); },
      (err) => { doneErr = err; });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('w1', { watched: 'yes' }) });
    const w1 = await core.readNamespacedConfigMap({ name: 'w1', namespace: ns });
    w1.data = { k: 'v' };
    await core.replaceNamespacedConfigMap({ name: 'w1', namespace: ns, body: w1 });
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: ns });
    await until('three events', async () => events.length >= 3, 20000);
    assert.deepEqual(events, ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    req.abort();
    assert.equal(doneErr, undefined);

    // past the history (--history-count 500): an ERROR event with a 410 Status, then the watch ends
    for (let i = 0; i < 260; i++) {
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('churn') });
      await core.deleteNamespacedConfigMap({ name: 'churn', namespace: ns });
    }
    const errors = [];
    let ended = false;
    await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: '1' },
      (type, obj) => { if (type === 'ERROR') errors.push(obj); }, () => { ended = true; });
    await until('the 410', async () => errors.length === 1 && ended, 20000);
    assert.equal(errors[0].code, 410);
    assert.equal(errors[0].reason, 'Expired');
  },

  async informerAndCache() {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('inf-pre') });
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace: ns }));
    const events = [];
    informer.on(k8s.ADD, (o) => events.push(`add ${o.metadata.name}`));
    informer.on(k8s.UPDATE, (o) => events.push(`update ${o.metadata.name}`));
    informer.on(k8s.DELETE, (o) => events.push(`delete ${o.metadata.name}`));
    const errors = [];
    informer.on(k8s.ERROR, (e) => errors.push(e));
    await informer.start();
    try {
      await until('the initial list', async () => events.includes('add inf-pre'));
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('inf-new', {}, { color: 'red' }) });
      await core.patchNamespacedConfigMap({ name: 'inf-new', namespace: ns, body: { data: { color: 'blue' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ name: 'inf-pre', namespace: ns });
      await until(`add/update/delete, got ${events}`, async () =>
        ['add inf-new', 'update inf-new', 'delete inf-pre'].every((e) => events.includes(e)));
      await until('the cache', async () => informer.get('inf-new', ns)?.data?.color === 'blue');
      assert.equal(informer.get('inf-pre', ns), undefined);
      assert.ok(informer.list(ns).some((o) => o.metadata.name === 'inf-new'));
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  },

  async customObjectsAndObjectApi() {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    try {
      await ext.createCustomResourceDefinition({ body: {
        metadata: { name: 'gizmos.node.kvx.io' },
        spec: { group: 'node.kvx.io', scope: 'Namespaced',
          names: { kind: 'Gizmo', plural: 'gizmos', singular: 'gizmo', listKind: 'GizmoList' },
          versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} },
            schema: { openAPIV3Schema: { type: 'object', properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }] },
      } });
    } catch (e) {
      if (e.code !== 409) throw e;
    }
    await until('the CRD to be established', async () => (await ext.readCustomResourceDefinition({ name: 'gizmos.node.kvx.io' }))
      .status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const g = { group: 'node.kvx.io', version: 'v1', namespace: ns, plural: 'gizmos' };
    await until('the kind to be served', async () => {
      await custom.listNamespacedCustomObject(g);
      return true;
    });
    await custom.createNamespacedCustomObject({ ...g, body: { apiVersion: 'node.kvx.io/v1', kind: 'Gizmo',
      metadata: { name: 'g1', labels: { tier: 'gold' } }, spec: { size: 3 } } });
    const listed = await custom.listNamespacedCustomObject({ ...g, labelSelector: 'tier=gold' });
    assert.equal(listed.items.length, 1);
    await custom.patchNamespacedCustomObjectStatus({ ...g, name: 'g1', body: { status: { phase: 'Ready' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const got = await custom.getNamespacedCustomObject({ ...g, name: 'g1' });
    assert.equal(got.status.phase, 'Ready');
    assert.equal(got.spec.size, 3);
    const missing = await rejects(custom.getNamespacedCustomObject({ ...g, name: 'nope' }));
    assert.equal(missing.code, 404);
    const invalid = await rejects(custom.patchNamespacedCustomObject({ ...g, name: 'g1', body: { spec: { size: 'big' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)));
    assert.equal(invalid.code, 422);

    // KubernetesObjectApi: any kind by apiVersion/kind, resolved through discovery
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const created = await objects.create({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g2', namespace: ns }, spec: { size: 1 } });
    assert.equal(created.spec.size, 1);
    const read = await objects.read({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g2', namespace: ns } });
    assert.equal(read.metadata.name, 'g2');
    const cmObj = await objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'obj-cm', namespace: ns }, data: { a: '1' } });
    assert.equal(cmObj.data.a, '1');
    const patched = await objects.patch({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g2', namespace: ns }, spec: { size: 5 } },
      undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
    assert.equal(patched.spec.size, 5);
    const applied = await objects.patch({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g3', namespace: ns }, spec: { size: 7 } },
      undefined, undefined, 'client-node-it', true, k8s.PatchStrategy.ServerSideApply);
    assert.equal(applied.spec.size, 7);
    const list = await objects.list('node.kvx.io/v1', 'Gizmo', ns);
    assert.deepEqual(list.items.map((o) => o.metadata.name).sort(), ['g1', 'g2', 'g3']);
    await objects.delete({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g2', namespace: ns } });
    const gone = await rejects(objects.read({ apiVersion: 'node.kvx.io/v1', kind: 'Gizmo', metadata: { name: 'g2', namespace: ns } }));
    assert.equal(gone.code, 404);
  },

  async events() {
    await core.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'ev1' },
      involvedObject: { kind: 'ConfigMap', name: 'x', namespace: ns }, reason: 'Tested', message: 'hello', type: 'Normal' } });
    const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'reason=Tested' });
    assert.equal(list.items[0].message, 'hello');
    const ev = kc.makeApiClient(k8s.EventsV1Api);
    await ev.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'ev2' }, reason: 'TestedV1', note: 'note',
      action: 'Test', type: 'Normal', reportingController: 'kvx.io/client-node-it', reportingInstance: 'it-1',
      eventTime: new Date(), regarding: { kind: 'ConfigMap', name: 'x', namespace: ns } } });
    assert.equal((await ev.readNamespacedEvent({ name: 'ev2', namespace: ns })).note, 'note');
  },

  async logsAndExec() {
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'talker' }, spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo line-1; echo line-2; while true; do sleep 0.5; echo tick; done'] }],
    } } });
    await until('the pod to run', async () =>
      (await core.readNamespacedPod({ name: 'talker', namespace: ns })).status?.phase === 'Running', 90000);
    await until('the log', async () =>
      String(await core.readNamespacedPodLog({ name: 'talker', namespace: ns })).includes('tick'));
    assert.ok((await core.readNamespacedPodLog({ name: 'talker', namespace: ns })).startsWith('line-1\nline-2\n'));
    assert.equal(await core.readNamespacedPodLog({ name: 'talker', namespace: ns, tailLines: 1 }), 'tick\n');

    let followed = '';
    const sink = new Writable({ write(chunk, _enc, cb) { followed += chunk; cb(); } });
    // not aborted: client-node 2.0.1 pipes the body without an error handler, so abort() crashes the process
    await new k8s.Log(kc).log(ns, 'talker', 'main', sink, { follow: true, tailLines: 1 });
    await until('the followed log', async () => (followed.match(/tick/g) || []).length >= 2);

    const run = (cmd, stdin) => new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const stdout = new Writable({ write(c, _e, cb) { out += c; cb(); } });
      const stderr = new Writable({ write(c, _e, cb) { err += c; cb(); } });
      new k8s.Exec(kc).exec(ns, 'talker', 'main', cmd, stdout, stderr, stdin ?? null, false,
        (st) => setTimeout(() => resolve({ out, err, st }), 200)).catch(reject);
    });
    const r = await run(['sh', '-c', 'echo to-out; echo to-err >&2; exit 4']);
    assert.equal(r.out, 'to-out\n');
    assert.equal(r.err, 'to-err\n');
    assert.equal(r.st.status, 'Failure');
    assert.equal(r.st.reason, 'NonZeroExitCode');
    assert.deepEqual(r.st.details.causes, [{ reason: 'ExitCode', message: '4' }]);
    const ok = await run(['true']);
    assert.equal(ok.st.status, 'Success');
    const input = new PassThrough();
    const catted = run(['cat'], input);
    input.end('through stdin\n');
    const c = await catted;
    assert.equal(c.out, 'through stdin\n');
    assert.equal(c.st.status, 'Success');

    // port-forward to a busybox httpd started in the pod
    await run(['sh', '-c', 'echo forwarded-by-client-node > /tmp/index.html; httpd -p 8080 -h /tmp']);
    let page = '';
    const pageSink = new Writable({ write(chunk, _e, cb) { page += chunk; cb(); } });
    const request = new PassThrough();
    const ws = await new k8s.PortForward(kc).portForward(ns, 'talker', [8080], pageSink, null, request);
    request.write('GET /index.html HTTP/1.0\r\n\r\n');
    await until(`the forwarded page, got ${JSON.stringify(page)}`, async () => page.includes('forwarded-by-client-node'), 20000);
    assert.match(page, /^HTTP\/1\.[01] 200/);
    if (typeof ws?.close === 'function') ws.close();
    await core.deleteNamespacedPod({ name: 'talker', namespace: ns });
  },
};

const name = process.argv[2];
if (name === 'list') {
  console.log(Object.keys(scenarios).join('\n'));
  process.exit(0);
}
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}; one of: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
try {
  await ensureNamespace();
  await scenarios[name]();
  console.log(`ok ${name}`);
  process.exit(0);
} catch (e) {
  console.error(`not ok ${name}: ${e?.stack || e}`);
  if (e?.body) console.error(`body: ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}`);
  process.exit(1);
}
