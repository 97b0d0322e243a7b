package io.kvx.controller;

import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.client.LeaderElector;
import io.kvx.controller.cronjob.CronJobReconciler;
import io.kvx.controller.daemonset.DaemonSetReconciler;
import io.kvx.controller.deployment.DeploymentReconciler;
import io.kvx.controller.endpoints.EndpointsReconciler;
import io.kvx.boot.Pki;
import io.kvx.controller.certificates.CsrSigningReconciler;
import io.kvx.controller.eventttl.EventTtlReconciler;
import io.kvx.controller.gc.GarbageCollector;
import io.kvx.controller.job.JobReconciler;
import io.kvx.controller.nodelifecycle.NodeHealth;
import io.kvx.controller.nodelifecycle.NodeLifecycleReconciler;
import io.kvx.controller.namespace.NamespaceReconciler;
import io.kvx.controller.nodeipam.NodeIpamReconciler;
import io.kvx.controller.replicaset.ReplicaSetReconciler;
import io.kvx.controller.serviceaccount.ServiceAccountReconciler;
import io.kvx.controller.statefulset.StatefulSetReconciler;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * kube-controller-manager's job: while this JVM holds the controller-manager Lease, it runs shared
 * caches (one list+watch per type) and every controller off its own work queue. Losing the lease
 * stops the controllers (the caches stay current for the next term); another JVM's instance takes
 * over.
 */
public final class ControllerManagerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(ControllerManagerVerticle.class.getName());

  private ApiClient client;
  private LeaderElector elector;
  private MeterRegistry meters;
  private final Map<String, Cache> caches = new HashMap<>();
  private final List<Controller> controllers = new ArrayList<>();
  private long generation;
  private String caPem;
  private volatile Pki.Pem signer;

  @Override
  public Future<?> start() {
    Services services = Services.of(vertx);
    meters = services.metrics();
    client = new ApiClient(vertx, services.store());
    JsonObject cfg = config();
    long leaseMs = cfg.getLong("leaseDurationMs", 4000L);
    long retryMs = cfg.getLong("retryPeriodMs", 1000L);
    Path ca = Path.of(cfg.getString("home", ".")).resolve("tls/ca.crt");
    Path caKey = ca.resolveSibling("ca.key");
    return vertx.executeBlocking(() -> {
      // the CA key signs approved CertificateSigningRequests (a JVM without it only cleans them up)
      if (Files.exists(ca) && Files.exists(caKey)) signer = new Pki.Pem(Files.readString(ca), Files.readString(caKey));
      return Files.exists(ca) ? Files.readString(ca) : null;
    }).onSuccess(pem -> {
      caPem = pem;
      var hz = services.hazelcast();
      String prefix = cfg.getString("nodeName", "kvx");
      elector = new LeaderElector(vertx, client, "kube-system", "kube-controller-manager",
          hz == null ? LeaderElector.identity(prefix) : LeaderElector.identity(prefix, hz), leaseMs, retryMs,
          v -> startControllers(), v -> stopControllers(true));
      if (hz != null) elector.followMembers(hz);
      elector.start();
    });
  }

  @Override
  public Future<?> stop() {
    if (elector != null) elector.stop();
    stopControllers(false);
    return Future.succeededFuture();
  }

  private Cache cache(ResourceType type) {
    return caches.computeIfAbsent(type.group() + "/" + type.plural(), k -> new Cache(type));
  }

  private Controller controller(Reconciler reconciler, int workers) {
    Controller c = new Controller(vertx, reconciler, workers, meters);
    controllers.add(c);
    return c;
  }

  private void startControllers() {
    long gen = ++generation;
    // each controller signs its events as kube-controller-manager's do (the From column of kubectl describe)
    java.util.function.Function<String, EventRecorder> events = component -> new EventRecorder(client, component);
    Cache pods = cache(Resources.PODS);
    Cache namespaces = cache(Resources.NAMESPACES);
    Cache rsCache = cache(Resources.builtIn("apps", "replicasets"));
    Cache rcCache = cache(Resources.builtIn("", "replicationcontrollers"));
    Cache deployments = cache(Resources.builtIn("apps", "deployments"));
    Cache services = cache(Resources.builtIn("", "services"));
    Cache endpoints = cache(Resources.builtIn("", "endpoints"));
    Cache slices = cache(Resources.builtIn("discovery.k8s.io", "endpointslices"));
    Cache accounts = cache(Resources.builtIn("", "serviceaccounts"));
    Cache configMaps = cache(Resources.builtIn("", "configmaps"));
    List<Cache> collected = new ArrayList<>();
    for (ResourceType t : Resources.COLLECTED) collected.add(cache(t));

    Controller[] rs = new Controller[1];
    rs[0] = controller(new ReplicaSetReconciler(rsCache.type(), rsCache, pods, client, events.apply("replicaset-controller"),
        k -> rs[0].enqueue(k)), 4);
    Controller[] rc = new Controller[1];
    rc[0] = controller(new ReplicaSetReconciler(rcCache.type(), rcCache, pods, client, events.apply("replication-controller"),
        k -> rc[0].enqueue(k)), 2);
    Controller[] dep = new Controller[1];
    dep[0] = controller(new DeploymentReconciler(deployments, rsCache, pods, client, events.apply("deployment-controller"),
        k -> dep[0].enqueue(k)), 4);
    Controller[] ep = new Controller[1];
    ep[0] = controller(new EndpointsReconciler(services, pods, endpoints, slices, client, k -> ep[0].enqueue(k)), 4);
    Controller[] gc = new Controller[1];
    GarbageCollector collector = new GarbageCollector(collected, client, k -> gc[0].enqueue(k));
    gc[0] = controller(collector, 4);
    Controller[] ns = new Controller[1];
    Cache crds = cache(Resources.builtIn("apiextensions.k8s.io", "customresourcedefinitions"));
    // Custom resources are owners and dependents too: one cache per kind a definition serves, from when it is seen.
    crds.listen(change -> {
      if (change.current() == null || gen != generation) return;
      List<ResourceType> served = io.kvx.api.CustomResources.types(change.current());
      if (served.isEmpty()) return;
      boolean fresh = !caches.containsKey(served.get(0).group() + "/" + served.get(0).plural());
      Cache custom = cache(served.get(0));
      collector.watch(custom);
      if (fresh) custom.start(client).onFailure(e -> LOG.warning("controller-manager: no cache of "
          + served.get(0).plural() + "." + served.get(0).group() + ": " + e.getMessage()));
    });
    ns[0] = controller(new NamespaceReconciler(namespaces, client, () -> withCustomResources(crds),
        k -> ns[0].enqueue(k)), 2);
    Controller[] hpa = new Controller[1];
    hpa[0] = controller(new io.kvx.controller.podautoscaler.HorizontalPodAutoscalerReconciler(vertx,
        cache(Resources.builtIn("autoscaling", "horizontalpodautoscalers")), pods, client,
        events.apply("horizontal-pod-autoscaler"),
        config().getLong("horizontalPodAutoscalerSyncPeriodSeconds", 15L) * 1000, k -> hpa[0].enqueue(k)), 2);
    Controller[] pv = new Controller[1];
    pv[0] = controller(new io.kvx.controller.volume.PersistentVolumeReconciler(
        cache(Resources.builtIn("", "persistentvolumeclaims")), cache(Resources.builtIn("", "persistentvolumes")),
        cache(Resources.builtIn("storage.k8s.io", "storageclasses")), cache(Resources.NODES), pods, client,
        events.apply("persistentvolume-controller"), k -> pv[0].enqueue(k)), 2);
    Controller[] quota = new Controller[1];
    java.util.Map<String, Cache> counted = new java.util.HashMap<>();
    for (String plural : io.kvx.api.Quotas.COUNTED.keySet()) counted.put(plural, cache(Resources.builtIn("", plural)));
    quota[0] = controller(new io.kvx.controller.resourcequota.ResourceQuotaReconciler(
        cache(Resources.builtIn("", "resourcequotas")), pods, counted, client, k -> quota[0].enqueue(k)), 2);
    Controller[] pdb = new Controller[1];
    pdb[0] = controller(new io.kvx.controller.disruption.DisruptionReconciler(
        cache(Resources.builtIn("policy", "poddisruptionbudgets")), pods, client,
        events.apply("controllermanager"), k -> pdb[0].enqueue(k)), 2);
    Controller[] sa = new Controller[1];
    sa[0] = controller(new ServiceAccountReconciler(namespaces, accounts, configMaps, client, caPem,
        k -> sa[0].enqueue(k)), 2);

    Cache jobs = cache(Resources.builtIn("batch", "jobs"));
    Cache cronJobs = cache(Resources.builtIn("batch", "cronjobs"));
    Cache daemonSets = cache(Resources.builtIn("apps", "daemonsets"));
    Cache statefulSets = cache(Resources.builtIn("apps", "statefulsets"));
    Cache revisions = cache(Resources.builtIn("apps", "controllerrevisions"));
    Cache nodes = cache(Resources.NODES);
    Cache leases = cache(Resources.LEASES);
    JsonObject cfg = config();
    Controller[] job = new Controller[1];
    job[0] = controller(new JobReconciler(jobs, pods, client, events.apply("job-controller"), k -> job[0].enqueue(k)), 4);
    Controller[] cj = new Controller[1];
    cj[0] = controller(new CronJobReconciler(cronJobs, jobs, client, events.apply("cronjob-controller"), ZoneId.systemDefault(),
        k -> cj[0].enqueue(k)), 2);
    Controller[] ds = new Controller[1];
    ds[0] = controller(new DaemonSetReconciler(daemonSets, nodes, pods, revisions, client, events.apply("daemonset-controller"),
        k -> ds[0].enqueue(k)), 2);
    Controller[] sts = new Controller[1];
    sts[0] = controller(new StatefulSetReconciler(statefulSets, pods, revisions, client, events.apply("statefulset-controller"),
        k -> sts[0].enqueue(k)), 4);
    Controller[] nl = new Controller[1];
    NodeHealth.Settings health = new NodeHealth.Settings(
        cfg.getLong("nodeMonitorGracePeriodSeconds", NodeHealth.Settings.DEFAULT.gracePeriodSeconds()),
        cfg.getLong("maxNoExecuteTolerationSeconds", NodeHealth.Settings.DEFAULT.maxTolerationSeconds()));
    nl[0] = controller(new NodeLifecycleReconciler(nodes, leases, pods, client, events.apply("node-controller"), health,
        k -> nl[0].enqueue(k)), 2);
    Controller[] agg = new Controller[1];
    agg[0] = controller(new io.kvx.controller.rbac.ClusterRoleAggregationReconciler(
        cache(Resources.builtIn("rbac.authorization.k8s.io", "clusterroles")), client, k -> agg[0].enqueue(k)), 1);
    long eventTtlMs = cfg.getLong("eventTtlMillis", 3_600_000L);
    Controller[] csr = new Controller[1];
    csr[0] = controller(new CsrSigningReconciler(cache(Resources.builtIn("certificates.k8s.io",
        "certificatesigningrequests")), client, signer, System::currentTimeMillis, k -> csr[0].enqueue(k)), 1);
    // one store for core/v1 and events.k8s.io/v1 Events
    Controller[] ttl = new Controller[1];
    ttl[0] = controller(new EventTtlReconciler(cache(Resources.builtIn("", "events")), client, eventTtlMs,
        System::currentTimeMillis, k -> ttl[0].enqueue(k)), 1);
    String clusterCidr = cfg.getString("clusterCidr", "");
    if (!clusterCidr.isEmpty() && cfg.getBoolean("allocateNodeCidrs", true)) {
      Controller[] ipam = new Controller[1];
      ipam[0] = controller(new NodeIpamReconciler(nodes, Services.of(vertx).store(), client, events.apply("cidrAllocator"), clusterCidr,
          cfg.getInteger("nodeCidrMaskSize", 24), k -> ipam[0].enqueue(k)), 1);
    }

    // Caches kept from an earlier term (the lease was lost and won back) are current: their objects are
    // replayed to the new controllers as an initial list would be, instead of listing everything again.
    List<Cache> kept = caches.values().stream().filter(Cache::started).toList();
    List<Future<Cache>> starts = new ArrayList<>();
    for (Cache c : caches.values()) if (!c.started()) starts.add(c.start(client));
    Future.all(starts).onSuccess(v -> {
          if (gen != generation) return;
          kept.forEach(Cache::replay);
          controllers.forEach(Controller::run);
        })
        .onSuccess(v -> LOG.info("controller-manager: " + controllers.size() + " controllers running on "
            + caches.size() + " caches" + (kept.isEmpty() ? "" : ", " + kept.size() + " of them kept from the last term")))
        .onFailure(e -> {
          LOG.warning("controller-manager: caches failed to start: " + e.getMessage() + "; retrying");
          stopControllers(false);
          vertx.setTimer(1000, t -> {
            if (elector.isLeader()) startControllers();
          });
        });
  }

  /** Every built-in kind and every kind a CustomResourceDefinition serves (a namespace's deletion empties them all). */
  private static List<ResourceType> withCustomResources(Cache crds) {
    List<ResourceType> types = new Resources().all();
    for (JsonObject crd : crds.all()) types.addAll(io.kvx.api.CustomResources.types(crd));
    return types;
  }

  /**
   * Stops every controller. With {@code keepCaches} (a lost lease) the caches go on following the API
   * without listeners, ready for the next term; otherwise they stop too.
   */
  private void stopControllers(boolean keepCaches) {
    generation++;
    controllers.forEach(Controller::stop);
    controllers.clear();
    if (keepCaches) {
      caches.values().forEach(Cache::clearListeners);
      return;
    }
    caches.values().forEach(Cache::stop);
    caches.clear();
  }
}
