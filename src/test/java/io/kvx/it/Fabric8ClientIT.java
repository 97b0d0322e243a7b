package io.kvx.it;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.APIGroupList;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.VersionInfo;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unmodified fabric8 kubernetes-client 8.0.0 (its default Vert.x 5 HTTP client) against kvx, used the way
 * operators written with it use it: kubeconfig and ServiceAccount-token configuration, typed CRUD, selectors and
 * paging, error Status, every patch type, watches and informers, generic resources of a CRD with status, leader
 * election on a Lease, events, logs and exec on a real pod.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class Fabric8ClientIT {

  private static ClientsCluster cluster;
  private static KubernetesClient client;
  private static final String NS = "fabric8";

  @BeforeAll
  static void up() throws Exception {
    cluster = ClientsCluster.start("fabric8");
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(cluster.kubeconfig.toFile())).build();
    // a previous run against the same kvx (-Dkvx.it.kubeconfig) may still be deleting it
    client.namespaces().withName(NS).waitUntilCondition(n -> n == null || n.getMetadata().getDeletionTimestamp() == null,
        60, TimeUnit.SECONDS);
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .createOr(existing -> existing.update());
  }

  @AfterAll
  static void down() throws Exception {
    if (client != null) {
      try {
        client.namespaces().withName(NS).delete();
      } finally {
        client.close();
      }
    }
    if (cluster != null) cluster.close();
  }

  private static ConfigMap configMap(String name, Map<String, String> labels, Map<String, String> data) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().withData(data)
        .build();
  }

  private static void await(Duration timeout, BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  @Test
  void versionAndDiscovery() {
    VersionInfo version = client.getKubernetesVersion();
    assertEquals("1", version.getMajor());
    assertFalse(version.getMinor().isEmpty());
    assertTrue(version.getGitVersion().startsWith("v1."), version.getGitVersion());
    APIGroupList groups = client.getApiGroups();
    assertTrue(groups.getGroups().stream().anyMatch(g -> g.getName().equals("apps")));
    APIResourceList apps = client.getApiResources("apps/v1");
    assertTrue(apps.getResources().stream().anyMatch(r -> r.getName().equals("deployments") && r.getNamespaced()));
    assertTrue(client.supports(Deployment.class));
    assertTrue(client.hasApiGroup("coordination.k8s.io", false));
  }

  @Test
  void serviceAccountTokenAuthenticates() throws Exception {
    client.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("robot").endMetadata().build()).createOr(e -> e.update());
    // RBAC: the account may list configmaps in NS.
    client.rbac().roles().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
        .withNewMetadata().withName("robot-reader").endMetadata().addNewRule().withApiGroups("")
        .withResources("configmaps").withVerbs("list").endRule().build()).createOr(e -> e.update());
    client.rbac().roleBindings().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
        .withNewMetadata().withName("robot-reader").endMetadata().withNewRoleRef()
        .withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName("robot-reader").endRoleRef()
        .addNewSubject().withKind("ServiceAccount").withName("robot").withNamespace(NS).endSubject().build())
        .createOr(e -> e.update());
    String token = client.serviceAccounts().inNamespace(NS).withName("robot")
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L).endSpec().build())
        .getStatus().getToken();
    // What an in-cluster client has: the API address, the CA file and the token.
    Config inCluster = new ConfigBuilder().withMasterUrl(cluster.server).withCaCertFile(cluster.caFile().toString())
        .withOauthToken(token).withNamespace(NS).build();
    try (KubernetesClient robot = new KubernetesClientBuilder().withConfig(inCluster).build()) {
      assertNotNull(robot.configMaps().list());
    }
    Config bad = new ConfigBuilder(inCluster).withOauthToken("not-a-token").build();
    try (KubernetesClient stranger = new KubernetesClientBuilder().withConfig(bad).build()) {
      KubernetesClientException e = assertThrows(KubernetesClientException.class,
          () -> stranger.configMaps().list());
      assertEquals(401, e.getCode());
    }
  }

  @Test
  void configMapCrudSelectorsPagingAndErrors() {
    var cms = client.configMaps().inNamespace(NS);
    for (int i = 0; i < 5; i++) {
      cms.resource(configMap("page-" + i, Map.of("app", "paging", "parity", i % 2 == 0 ? "even" : "odd"),
          Map.of("i", String.valueOf(i)))).create();
    }
    assertEquals(5, cms.withLabel("app", "paging").list().getItems().size());
    assertEquals(3, cms.withLabel("app", "paging").withLabel("parity", "even").list().getItems().size());
    assertEquals(2, cms.withLabelIn("parity", "odd").list().getItems().size());
    assertEquals(List.of("page-3"), cms.withField("metadata.name", "page-3").list().getItems().stream()
        .map(c -> c.getMetadata().getName()).toList());

    // limit/continue by hand, then the client's own paging iterator
    Set<String> seen = new HashSet<>();
    ConfigMapList page = cms.withLabel("app", "paging").list(new ListOptionsBuilder().withLimit(2L).build());
    int pages = 1;
    page.getItems().forEach(c -> seen.add(c.getMetadata().getName()));
    while (page.getMetadata().getContinue() != null && !page.getMetadata().getContinue().isEmpty()) {
      assertEquals(2, page.getItems().size());
      page = cms.withLabel("app", "paging").list(new ListOptionsBuilder().withLimit(2L)
          .withContinue(page.getMetadata().getContinue()).build());
      page.getItems().forEach(c -> seen.add(c.getMetadata().getName()));
      pages++;
    }
    assertEquals(3, pages);
    assertEquals(5, seen.size());
    List<String> streamed = new ArrayList<>();
    cms.withLabel("app", "paging").resources().forEach(r -> streamed.add(r.get().getMetadata().getName()));
    assertEquals(5, streamed.size());

    // not found: get() answers null, edit() throws with the parsed Status
    assertNull(cms.withName("no-such").get());
    KubernetesClientException notFound = assertThrows(KubernetesClientException.class,
        () -> cms.withName("no-such").edit(c -> c));
    assertEquals(404, notFound.getCode());
    assertEquals("NotFound", notFound.getStatus().getReason());

    // already exists
    KubernetesClientException exists = assertThrows(KubernetesClientException.class,
        () -> cms.resource(configMap("page-0", Map.of(), Map.of())).create());
    assertEquals(409, exists.getCode());
    assertEquals("AlreadyExists", exists.getStatus().getReason());

    // stale update: 409 Conflict
    ConfigMap stale = cms.withName("page-0").get();
    ConfigMap fresh = cms.withName("page-0").edit(c -> new ConfigMapBuilder(c).addToData("edited", "yes").build());
    assertEquals("yes", fresh.getData().get("edited"));
    stale.getData().put("i", "stale");
    KubernetesClientException conflict = assertThrows(KubernetesClientException.class,
        () -> cms.resource(stale).update());
    assertEquals(409, conflict.getCode());
    assertEquals("Conflict", conflict.getStatus().getReason());
    // update() without a resourceVersion is unconditional in fabric8: it reads the latest and retries
    stale.getMetadata().setResourceVersion(null);
    assertEquals("stale", cms.resource(stale).update().getData().get("i"));

    // dry run: answered as if created, but nothing stored
    ConfigMap dry = cms.resource(configMap("dry", Map.of(), Map.of("a", "b"))).dryRun().create();
    assertEquals("dry", dry.getMetadata().getName());
    assertNull(cms.withName("dry").get());
    cms.withName("page-1").dryRun().delete();
    assertNotNull(cms.withName("page-1").get());

    // delete collection by label
    assertFalse(cms.withLabel("app", "paging").delete().isEmpty());
    assertEquals(0, cms.withLabel("app", "paging").list().getItems().size());
  }

  @Test
  void patchTypes() {
    var cms = client.configMaps().inNamespace(NS);
    cms.resource(configMap("patched", Map.of("a", "1"), Map.of("k1", "v1"))).create();
    ConfigMap json = cms.withName("patched").patch(PatchContext.of(PatchType.JSON),
        "[{\"op\":\"add\",\"path\":\"/data/k2\",\"value\":\"v2\"}]");
    assertEquals(Map.of("k1", "v1", "k2", "v2"), json.getData());
    ConfigMap merge = cms.withName("patched").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"data\":{\"k1\":null,\"k3\":\"v3\"}}");
    assertEquals(Map.of("k2", "v2", "k3", "v3"), merge.getData());
    ConfigMap strategic = cms.withName("patched").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
        "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}");
    assertEquals(Map.of("a", "1", "b", "2"), strategic.getMetadata().getLabels());
    // edit() computes a JSON patch from the diff
    ConfigMap edited = cms.withName("patched").edit(c -> new ConfigMapBuilder(c).removeFromData("k2").build());
    assertEquals(Map.of("k3", "v3"), edited.getData());

    // strategic merge on a list with a merge key: containers are merged by name, not replaced
    var pods = client.pods().inNamespace(NS);
    pods.resource(new PodBuilder().withNewMetadata().withName("smp").endMetadata().withNewSpec()
        .withNodeName("nowhere").addNewContainer().withName("a").withImage("busybox").endContainer()
        .addNewContainer().withName("b").withImage("busybox").endContainer().endSpec().build()).create();
    Pod smp = pods.withName("smp").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
        "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"busybox:2\"}]}}");
    assertEquals(List.of("busybox", "busybox:2"), smp.getSpec().getContainers().stream().map(c -> c.getImage()).toList());
    pods.withName("smp").withGracePeriod(0).delete();

    // server-side apply: create, then change a field the same manager owns
    ConfigMap applied = cms.resource(configMap("applied", Map.of(), Map.of("x", "1"))).fieldManager("fabric8-it")
        .forceConflicts().serverSideApply();
    assertEquals("1", applied.getData().get("x"));
    ConfigMap reapplied = cms.resource(configMap("applied", Map.of("l", "v"), Map.of("x", "2")))
        .fieldManager("fabric8-it").forceConflicts().serverSideApply();
    assertEquals("2", reapplied.getData().get("x"));
    assertEquals("v", reapplied.getMetadata().getLabels().get("l"));
    var entry = reapplied.getMetadata().getManagedFields().stream()
        .filter(m -> m.getManager().equals("fabric8-it")).findFirst().orElseThrow();
    assertEquals("Apply", entry.getOperation());
    // Another manager changing a field fabric8-it owns, without force: 409 naming the field and the owner.
    KubernetesClientException conflict = assertThrows(KubernetesClientException.class, () -> cms.resource(
        configMap("applied", Map.of(), Map.of("x", "3"))).fieldManager("other").serverSideApply());
    assertEquals(409, conflict.getCode());
    assertTrue(conflict.getMessage().contains("conflict with \"fabric8-it\"") && conflict.getMessage().contains(".data.x"),
        conflict.getMessage());
    // With force the value and its ownership move; a field dropped from fabric8-it's config is then removed.
    assertEquals("3", cms.resource(configMap("applied", Map.of(), Map.of("x", "3"))).fieldManager("other")
        .forceConflicts().serverSideApply().getData().get("x"));
    ConfigMap pruned = cms.resource(configMap("applied", Map.of(), Map.of())).fieldManager("fabric8-it")
        .forceConflicts().serverSideApply();
    assertEquals(null, pruned.getMetadata().getLabels() == null ? null : pruned.getMetadata().getLabels().get("l"),
        "the label only fabric8-it applied is gone once it stops applying it");
    assertEquals("3", pruned.getData().get("x"), "x now belongs to the other manager and stays");
  }

  @Test
  void deploymentCrudAndScale() throws Exception {
    var deployments = client.apps().deployments().inNamespace(NS);
    Deployment d = new DeploymentBuilder().withNewMetadata().withName("web").addToLabels("app", "web").endMetadata()
        .withNewSpec().withReplicas(1).withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata().withNewSpec()
        .withTerminationGracePeriodSeconds(1L).addNewContainer().withName("web").withImage("busybox")
        .withCommand("sh", "-c", "sleep 3600").endContainer().endSpec().endTemplate().endSpec().build();
    deployments.resource(d).create();
    deployments.withName("web").scale(2);
    Deployment ready = deployments.withName("web").waitUntilCondition(
        x -> x != null && x.getStatus() != null && Integer.valueOf(2).equals(x.getStatus().getReadyReplicas()),
        90, TimeUnit.SECONDS);
    assertEquals(2, ready.getSpec().getReplicas());
    assertEquals(2, client.pods().inNamespace(NS).withLabel("app", "web").list().getItems().size());
    deployments.withName("web").rolling().restart();
    assertNotNull(deployments.withName("web").get().getSpec().getTemplate().getMetadata().getAnnotations()
        .get("kubectl.kubernetes.io/restartedAt"));
    deployments.withName("web").withTimeout(60, TimeUnit.SECONDS).delete();
    await(Duration.ofSeconds(60), () -> client.pods().inNamespace(NS).withLabel("app", "web").list().getItems()
        .isEmpty(), "the deployment's pods to go");
  }

  @Test
  void watchSeesAddModifyDeleteAndGoneIsReported() throws Exception {
    var cms = client.configMaps().inNamespace(NS);
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    try (Watch w = cms.withLabel("watched", "yes").watch(new Watcher<ConfigMap>() {
      @Override
      public void eventReceived(Action action, ConfigMap cm) {
        events.add(action + " " + cm.getMetadata().getName());
      }

      @Override
      public void onClose(WatcherException e) {
        events.add("CLOSED " + e);
      }
    })) {
      cms.resource(configMap("w1", Map.of("watched", "yes"), Map.of())).create();
      cms.withName("w1").edit(c -> new ConfigMapBuilder(c).addToData("k", "v").build());
      cms.resource(configMap("other", Map.of(), Map.of())).create();
      cms.withName("w1").delete();
      assertEquals("ADDED w1", events.poll(20, TimeUnit.SECONDS));
      assertEquals("MODIFIED w1", events.poll(20, TimeUnit.SECONDS));
      assertEquals("DELETED w1", events.poll(20, TimeUnit.SECONDS));
    }

    // make enough writes that the history (--history-count 500) forgets resourceVersion 1
    for (int i = 0; i < 520; i++) {
      cms.withName("other").edit(c -> new ConfigMapBuilder(c).addToData("n", String.valueOf(System.nanoTime())).build());
    }
    CompletableFuture<WatcherException> closed = new CompletableFuture<>();
    try (Watch ignored = cms.watch(new ListOptionsBuilder().withResourceVersion("1").build(),
        new Watcher<ConfigMap>() {
          @Override
          public void eventReceived(Action action, ConfigMap resource) { }

          @Override
          public void onClose(WatcherException e) {
            closed.complete(e);
          }
        })) {
      WatcherException gone = closed.get(30, TimeUnit.SECONDS);
      assertTrue(gone.isHttpGone(), String.valueOf(gone));
    }
  }

  @Test
  void informerWithResyncAndLister() throws Exception {
    var cms = client.configMaps().inNamespace(NS);
    cms.resource(configMap("inf-pre", Map.of("inf", "yes"), Map.of())).create();
    List<String> events = new CopyOnWriteArrayList<>();
    AtomicInteger resyncs = new AtomicInteger();
    SharedIndexInformer<ConfigMap> informer = cms.withLabel("inf", "yes").inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ConfigMap obj) {
        events.add("add " + obj.getMetadata().getName());
      }

      @Override
      public void onUpdate(ConfigMap oldObj, ConfigMap newObj) {
        if (oldObj.getMetadata().getResourceVersion().equals(newObj.getMetadata().getResourceVersion())) {
          resyncs.incrementAndGet();
        } else {
          events.add("update " + newObj.getMetadata().getName());
        }
      }

      @Override
      public void onDelete(ConfigMap obj, boolean deletedFinalStateUnknown) {
        events.add("delete " + obj.getMetadata().getName());
      }
    }, 1000);
    try {
      informer.addIndexers(Map.of("byColor", c -> List.of(String.valueOf(c.getData() == null ? null
          : c.getData().get("color")))));
      await(Duration.ofSeconds(20), () -> events.contains("add inf-pre"), "the initial list");
      assertTrue(informer.hasSynced());
      cms.resource(configMap("inf-new", Map.of("inf", "yes"), Map.of("color", "red"))).create();
      cms.withName("inf-new").edit(c -> new ConfigMapBuilder(c).addToData("color", "blue").build());
      cms.withName("inf-pre").delete();
      await(Duration.ofSeconds(20), () -> events.containsAll(List.of("add inf-new", "update inf-new",
          "delete inf-pre")), "add/update/delete, got " + events);
      await(Duration.ofSeconds(10), () -> resyncs.get() >= 2, "resyncs");
      Lister<ConfigMap> lister = new Lister<>(informer.getIndexer(), NS);
      assertNotNull(lister.get("inf-new"));
      assertNull(lister.get("inf-pre"));
      await(Duration.ofSeconds(10), () -> informer.getIndexer().byIndex("byColor", "blue").size() == 1, "index");
      assertTrue(informer.getIndexer().byIndex("byColor", "red").isEmpty());
    } finally {
      informer.close();
    }
  }

  @Test
  void genericResourcesOfACrdWithStatus() throws Exception {
    CustomResourceDefinition crd = new CustomResourceDefinitionBuilder().withNewMetadata()
        .withName("widgets.fabric8.kvx.io").endMetadata().withNewSpec().withGroup("fabric8.kvx.io")
        .withScope("Namespaced").withNewNames().withKind("Widget").withPlural("widgets").withSingular("widget")
        .withListKind("WidgetList").endNames().addNewVersion().withName("v1").withServed(true).withStorage(true)
        .withNewSubresources().withNewStatus().endStatus().endSubresources()
        .withNewSchema().withNewOpenAPIV3Schema().withType("object").addToProperties("spec",
            new io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder().withType("object")
                .addToProperties("size", new io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder()
                    .withType("integer").build()).build())
        .addToProperties("status", new io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder()
            .withType("object").withXKubernetesPreserveUnknownFields(true).build())
        .endOpenAPIV3Schema().endSchema().endVersion().endSpec().build();
    client.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(e -> e.update());
    client.apiextensions().v1().customResourceDefinitions().withName("widgets.fabric8.kvx.io").waitUntilCondition(
        c -> c != null && c.getStatus() != null && c.getStatus().getConditions().stream()
            .anyMatch(x -> x.getType().equals("Established") && x.getStatus().equals("True")), 30, TimeUnit.SECONDS);

    var widgets = client.genericKubernetesResources("fabric8.kvx.io/v1", "Widget").inNamespace(NS);
    GenericKubernetesResource w = new GenericKubernetesResourceBuilder().withApiVersion("fabric8.kvx.io/v1")
        .withKind("Widget").withNewMetadata().withName("w1").addToLabels("tier", "gold").endMetadata()
        .addToAdditionalProperties("spec", Map.of("size", 3)).build();
    GenericKubernetesResource created = widgets.resource(w).create();
    assertEquals(3, ((Number) created.get("spec", "size")).intValue());
    GenericKubernetesResourceList list = widgets.withLabel("tier", "gold").list();
    assertEquals(1, list.getItems().size());

    // status only through the subresource
    GenericKubernetesResource withStatus = new GenericKubernetesResourceBuilder(created).build();
    withStatus.setAdditionalProperty("status", Map.of("phase", "Ready"));
    GenericKubernetesResource afterStatus = widgets.resource(withStatus).updateStatus();
    assertEquals("Ready", afterStatus.get("status", "phase"));
    GenericKubernetesResource patched = widgets.withName("w1").editStatus(r -> {
      r.setAdditionalProperty("status", Map.of("phase", "Done"));
      return r;
    });
    assertEquals("Done", patched.get("status", "phase"));
    // a status sent to the main resource is ignored
    GenericKubernetesResource sneaky = widgets.withName("w1").get();
    sneaky.setAdditionalProperty("status", Map.of("phase", "Sneaky"));
    sneaky.setAdditionalProperty("spec", Map.of("size", 4));
    GenericKubernetesResource updated = widgets.resource(sneaky).update();
    assertEquals(4, ((Number) updated.get("spec", "size")).intValue());
    assertEquals("Done", updated.get("status", "phase"));

    // merge patch, schema validation, typed-less load from YAML, SSA, delete
    widgets.withName("w1").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"size\":5}}");
    assertEquals(5, ((Number) widgets.withName("w1").get().get("spec", "size")).intValue());
    KubernetesClientException invalid = assertThrows(KubernetesClientException.class,
        () -> widgets.withName("w1").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"size\":\"big\"}}"));
    assertEquals(422, invalid.getCode());
    client.resource("""
        apiVersion: fabric8.kvx.io/v1
        kind: Widget
        metadata:
          name: from-yaml
          namespace: fabric8
        spec:
          size: 7
        """).create();
    assertEquals(7, ((Number) widgets.withName("from-yaml").get().get("spec", "size")).intValue());
    GenericKubernetesResource ssa = new GenericKubernetesResourceBuilder().withApiVersion("fabric8.kvx.io/v1")
        .withKind("Widget").withNewMetadata().withName("applied").withNamespace(NS).endMetadata()
        .addToAdditionalProperties("spec", Map.of("size", 1)).build();
    assertEquals(1, ((Number) widgets.resource(ssa).fieldManager("fabric8-it").forceConflicts().serverSideApply()
        .get("spec", "size")).intValue());
    widgets.withName("from-yaml").delete();
    await(Duration.ofSeconds(10), () -> widgets.withName("from-yaml").get() == null, "the widget to go");

    // deleting the definition deletes its objects: defined again, it starts empty
    var crds = client.apiextensions().v1().customResourceDefinitions();
    crds.withName("widgets.fabric8.kvx.io").delete();
    await(Duration.ofSeconds(30), () -> crds.withName("widgets.fabric8.kvx.io").get() == null, "the CRD to go");
    crd.getMetadata().setResourceVersion(null);
    crds.resource(crd).create();
    crds.withName("widgets.fabric8.kvx.io").waitUntilCondition(c -> c != null && c.getStatus() != null
        && c.getStatus().getConditions().stream().anyMatch(x -> x.getType().equals("Established")), 30, TimeUnit.SECONDS);
    await(Duration.ofSeconds(30), () -> {
      try {
        return widgets.list().getItems().isEmpty();
      } catch (KubernetesClientException e) {
        return false; // not served again yet
      }
    }, "no widgets left from before");
    crds.withName("widgets.fabric8.kvx.io").delete();
  }

  @Test
  void leaderElectionOnALease() throws Exception {
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch firstLeads = new CountDownLatch(1);
    CountDownLatch secondLeads = new CountDownLatch(1);
    LeaderElector first = elector("first", log, firstLeads);
    LeaderElector second = elector("second", log, secondLeads);
    CompletableFuture<?> firstRun = first.start();
    assertTrue(firstLeads.await(20, TimeUnit.SECONDS), "first never led: " + log);
    CompletableFuture<?> secondRun = second.start();
    Thread.sleep(2000);
    assertEquals(1, secondLeads.getCount(), "second led while first held the lease: " + log);
    assertEquals("first", client.leases().inNamespace(NS).withName("f8-lock").get().getSpec().getHolderIdentity());
    firstRun.cancel(true); // releaseOnCancel: the lease is given up at once
    assertTrue(secondLeads.await(20, TimeUnit.SECONDS), "second never took over: " + log);
    assertEquals("second", client.leases().inNamespace(NS).withName("f8-lock").get().getSpec().getHolderIdentity());
    assertTrue(log.contains("first stopped"), String.valueOf(log));
    secondRun.cancel(true);
  }

  private static LeaderElector elector(String id, List<String> log, CountDownLatch leads) {
    return client.leaderElector().withConfig(new LeaderElectionConfigBuilder().withName("f8-election")
        .withLock(new LeaseLock(NS, "f8-lock", id)).withLeaseDuration(Duration.ofSeconds(6))
        .withRenewDeadline(Duration.ofSeconds(4)).withRetryPeriod(Duration.ofMillis(500)).withReleaseOnCancel(true)
        .withLeaderCallbacks(new LeaderCallbacks(() -> {
          log.add(id + " leads");
          leads.countDown();
        }, () -> log.add(id + " stopped"), leader -> log.add(id + " sees " + leader))).build()).build();
  }

  @Test
  void eventsCoreAndEventsV1() {
    client.v1().events().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.EventBuilder()
        .withNewMetadata().withName("ev1").endMetadata().withNewInvolvedObject().withKind("ConfigMap")
        .withName("x").withNamespace(NS).endInvolvedObject().withReason("Tested").withMessage("hello")
        .withType("Normal").withNewSource().withComponent("fabric8-it").endSource().build()).create();
    assertEquals("hello", client.v1().events().inNamespace(NS).withField("reason", "Tested").list().getItems()
        .getFirst().getMessage());
    client.events().v1().events().inNamespace(NS).resource(new EventBuilder().withNewMetadata().withName("ev2")
        .endMetadata().withReason("TestedV1").withNote("note").withAction("Test").withType("Normal")
        .withReportingController("kvx.io/fabric8-it").withReportingInstance("it-1")
        .withEventTime(new MicroTime(Instant.now().toString().replaceFirst("(\\.\\d{6})\\d*Z", "$1Z")))
        .withNewRegarding().withKind("ConfigMap").withName("x").withNamespace(NS).endRegarding().build()).create();
    assertEquals("note", client.events().v1().events().inNamespace(NS).withName("ev2").get().getNote());
  }

  @Test
  void logsAndExecOnARunningPod() throws Exception {
    var pods = client.pods().inNamespace(NS);
    pods.resource(new PodBuilder().withNewMetadata().withName("talker").endMetadata().withNewSpec()
        .withTerminationGracePeriodSeconds(1L).addNewContainer().withName("main").withImage("busybox")
        .withCommand("sh", "-c", "echo line-1; echo line-2; while true; do sleep 0.5; echo tick; done")
        .endContainer().endSpec().build()).create();
    pods.withName("talker").waitUntilReady(90, TimeUnit.SECONDS);
    await(Duration.ofSeconds(20), () -> pods.withName("talker").getLog().contains("tick"), "the log");
    assertTrue(pods.withName("talker").getLog().startsWith("line-1\nline-2\n"));
    assertEquals("tick\n", pods.withName("talker").tailingLines(1).getLog());

    ByteArrayOutputStream followed = new ByteArrayOutputStream();
    try (LogWatch lw = pods.withName("talker").watchLog(followed)) {
      await(Duration.ofSeconds(20), () -> followed.toString(StandardCharsets.UTF_8).contains("tick"), "followed log");
    }

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ExecWatch exec = pods.withName("talker").writingOutput(out).writingError(err)
        .exec("sh", "-c", "echo to-out; echo to-err >&2; exit 4")) {
      assertEquals(4, exec.exitCode().get(30, TimeUnit.SECONDS));
    }
    await(Duration.ofSeconds(5), () -> out.toString(StandardCharsets.UTF_8).equals("to-out\n"), "exec stdout: " + out);
    await(Duration.ofSeconds(5), () -> err.toString(StandardCharsets.UTF_8).equals("to-err\n"), "exec stderr: " + err);

    // fabric8 speaks v4.channel.k8s.io, which cannot signal stdin's end: the command reads one line and exits
    ByteArrayOutputStream catted = new ByteArrayOutputStream();
    try (ExecWatch exec = pods.withName("talker").redirectingInput().writingOutput(catted)
        .exec("sh", "-c", "read line; echo got:$line")) {
      exec.getInput().write("through stdin\n".getBytes(StandardCharsets.UTF_8));
      exec.getInput().flush();
      assertEquals(0, exec.exitCode().get(30, TimeUnit.SECONDS));
      await(Duration.ofSeconds(10), () -> catted.toString(StandardCharsets.UTF_8).equals("got:through stdin\n"),
          "stdin echo: " + catted);
    }

    // file upload and download ride on exec with tar
    java.nio.file.Path local = java.nio.file.Files.createTempFile("kvx-f8", ".txt");
    java.nio.file.Files.writeString(local, "uploaded by fabric8\n");
    assertTrue(pods.withName("talker").file("/tmp/up.txt").upload(local));
    try (var in = pods.withName("talker").file("/tmp/up.txt").read()) {
      assertEquals("uploaded by fabric8\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }

    // port-forward over fabric8's WebSocket protocol to a busybox httpd started in the pod
    try (ExecWatch httpd = pods.withName("talker").writingOutput(new ByteArrayOutputStream()).exec("sh", "-c",
        "echo forwarded-by-fabric8 > /tmp/index.html; httpd -p 8080 -h /tmp")) {
      assertEquals(0, httpd.exitCode().get(30, TimeUnit.SECONDS));
    }
    try (var forward = pods.withName("talker").portForward(8080)) {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      var response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
          + forward.getLocalPort() + "/index.html")).timeout(Duration.ofSeconds(20)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode());
      assertEquals("forwarded-by-fabric8\n", response.body());
      assertFalse(forward.errorOccurred(), String.valueOf(forward.getServerThrowables()));
    }
    pods.withName("talker").delete();
  }
}
