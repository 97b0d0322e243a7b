package io.kvx.it;

import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.Discovery;
import io.kubernetes.client.Exec;
import io.kubernetes.client.PodLogs;
import io.kubernetes.client.PortForward;
import io.kubernetes.client.ProtoClient;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.kubernetes.client.extended.leaderelection.LeaderElector;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.informer.cache.Lister;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.apis.EventsV1Api;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.EventsV1Event;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ConfigMapList;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1CustomResourceDefinition;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.openapi.models.VersionInfo;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Yaml;
import io.kubernetes.client.util.credentials.TokenFileAuthentication;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.ListOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.FileReader;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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
 * The unmodified Kubernetes Java client (io.kubernetes client-java 24.0.0, OkHttp and Gson) against kvx: kubeconfig and
 * in-cluster token-file authentication, typed CoreV1/AppsV1 calls with selectors and paging, ApiException codes and
 * the Status they carry, patch formats, Watch with bookmarks and 410, SharedInformerFactory with a Lister, the generic
 * and dynamic APIs and CustomObjectsApi on a CRD with status, LeaderElector on a LeaseLock, events, logs, Exec and
 * ProtoClient.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClientJavaIT {

  private static final String NS = "clientjava";
  private static ClientsCluster cluster;
  private static ApiClient client;
  private static CoreV1Api core;

  @BeforeAll
  static void up() throws Exception {
    cluster = ClientsCluster.start("clientjava");
    try (FileReader r = new FileReader(cluster.kubeconfig.toFile())) {
      client = ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(r)).setReadTimeout(Duration.ZERO).build();
    }
    core = new CoreV1Api(client);
    awaitNamespaceGone(); // a previous run against the same kvx (-Dkvx.it.kubeconfig) may still be deleting it
    try {
      core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(NS))).execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) throw e;
    }
  }

  private static void awaitNamespaceGone() throws Exception {
    await(Duration.ofSeconds(60), () -> {
      try {
        return core.readNamespace(NS).execute().getMetadata().getDeletionTimestamp() == null;
      } catch (ApiException e) {
        return e.getCode() == 404;
      }
    }, "namespace " + NS + " to finish deleting");
  }

  @AfterAll
  static void down() throws Exception {
    try {
      if (core != null) core.deleteNamespace(NS).execute();
    } finally {
      if (cluster != null) cluster.close();
    }
  }

  private static V1ConfigMap configMap(String name, Map<String, String> labels, Map<String, String> data) {
    return new V1ConfigMap().metadata(new V1ObjectMeta().name(name).labels(labels)).data(data);
  }

  private static V1Status status(ApiException e) {
    return client.getJSON().deserialize(e.getResponseBody(), V1Status.class);
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
  void versionAndDiscovery() throws Exception {
    VersionInfo v = new VersionApi(client).getCode().execute();
    assertEquals("1", v.getMajor());
    assertTrue(v.getGitVersion().startsWith("v1."), v.getGitVersion());
    Set<Discovery.APIResource> all = new Discovery(client).findAll();
    assertTrue(all.stream().anyMatch(r -> r.getResourcePlural().equals("deployments") && r.getGroup().equals("apps")
        && r.getNamespaced() && r.getVersions().contains("v1")), String.valueOf(all.size()));
    assertTrue(all.stream().anyMatch(r -> r.getResourcePlural().equals("pods") && r.getSubResources()
        .contains("log")));
  }

  @Test
  void inClusterTokenFileAuthenticates() throws Exception {
    try {
      core.createNamespacedServiceAccount(NS, new V1ServiceAccount().metadata(new V1ObjectMeta().name("robot")))
          .execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) throw e;
    }
    // RBAC: the account may list configmaps in NS.
    var rbac = new io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api(core.getApiClient());
    try {
      rbac.createNamespacedRole(NS, new io.kubernetes.client.openapi.models.V1Role()
          .metadata(new V1ObjectMeta().name("robot-reader")).addRulesItem(new io.kubernetes.client.openapi.models
              .V1PolicyRule().addApiGroupsItem("").addResourcesItem("configmaps").addVerbsItem("list"))).execute();
      rbac.createNamespacedRoleBinding(NS, new io.kubernetes.client.openapi.models.V1RoleBinding()
          .metadata(new V1ObjectMeta().name("robot-reader"))
          .roleRef(new io.kubernetes.client.openapi.models.V1RoleRef().apiGroup("rbac.authorization.k8s.io")
              .kind("Role").name("robot-reader"))
          .addSubjectsItem(new io.kubernetes.client.openapi.models.RbacV1Subject().kind("ServiceAccount")
              .name("robot").namespace(NS))).execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) throw e;
    }
    String token = core.createNamespacedServiceAccountToken("robot", NS,
        new AuthenticationV1TokenRequest().spec(new V1TokenRequestSpec().expirationSeconds(600L))).execute().getStatus().getToken();
    // ClientBuilder.cluster() reads exactly these: the token file (re-read as it rotates) and the CA.
    Path tokenFile = Files.createTempFile("kvx-sa-token", "");
    Files.writeString(tokenFile, token);
    ApiClient inCluster = new ClientBuilder().setBasePath(cluster.server)
        .setCertificateAuthority(cluster.caPem.getBytes(StandardCharsets.UTF_8))
        .setAuthentication(new TokenFileAuthentication(tokenFile.toString())).build();
    assertNotNull(new CoreV1Api(inCluster).listNamespacedConfigMap(NS).execute());
    Files.writeString(tokenFile, "garbage");
    ApiClient stranger = new ClientBuilder().setBasePath(cluster.server)
        .setCertificateAuthority(cluster.caPem.getBytes(StandardCharsets.UTF_8))
        .setAuthentication(new TokenFileAuthentication(tokenFile.toString())).build();
    ApiException e = assertThrows(ApiException.class, () -> new CoreV1Api(stranger).listNamespacedConfigMap(NS)
        .execute());
    assertEquals(401, e.getCode());
    Files.delete(tokenFile);
  }

  @Test
  void configMapCrudSelectorsPagingAndErrors() throws Exception {
    for (int i = 0; i < 5; i++) {
      core.createNamespacedConfigMap(NS, configMap("page-" + i, Map.of("app", "paging", "parity",
          i % 2 == 0 ? "even" : "odd"), Map.of("i", String.valueOf(i)))).execute();
    }
    assertEquals(3, core.listNamespacedConfigMap(NS).labelSelector("app=paging,parity=even").execute().getItems()
        .size());
    assertEquals(2, core.listNamespacedConfigMap(NS).labelSelector("parity in (odd)").execute().getItems().size());
    assertEquals(4, core.listNamespacedConfigMap(NS).labelSelector("app=paging").fieldSelector("metadata.name!=page-0")
        .execute().getItems().size());

    Set<String> seen = new HashSet<>();
    String cont = null;
    int pages = 0;
    do {
      V1ConfigMapList page = core.listNamespacedConfigMap(NS).labelSelector("app=paging").limit(2)._continue(cont)
          .execute();
      page.getItems().forEach(c -> seen.add(c.getMetadata().getName()));
      cont = page.getMetadata().getContinue();
      pages++;
    } while (cont != null && !cont.isEmpty());
    assertEquals(3, pages);
    assertEquals(5, seen.size());

    ApiException notFound = assertThrows(ApiException.class, () -> core.readNamespacedConfigMap("no-such", NS).execute());
    assertEquals(404, notFound.getCode());
    assertEquals("NotFound", status(notFound).getReason());
    assertEquals(404, status(notFound).getCode());
    assertEquals("configmaps", status(notFound).getDetails().getKind());

    ApiException exists = assertThrows(ApiException.class,
        () -> core.createNamespacedConfigMap(NS, configMap("page-0", Map.of(), Map.of())).execute());
    assertEquals(409, exists.getCode());
    assertEquals("AlreadyExists", status(exists).getReason());

    V1ConfigMap stale = core.readNamespacedConfigMap("page-0", NS).execute();
    V1ConfigMap fresh = core.readNamespacedConfigMap("page-0", NS).execute();
    fresh.getData().put("edited", "yes");
    core.replaceNamespacedConfigMap("page-0", NS, fresh).execute();
    stale.getData().put("i", "stale");
    ApiException conflict = assertThrows(ApiException.class,
        () -> core.replaceNamespacedConfigMap("page-0", NS, stale).execute());
    assertEquals(409, conflict.getCode());
    assertEquals("Conflict", status(conflict).getReason());

    V1ConfigMap dry = core.createNamespacedConfigMap(NS, configMap("dry", Map.of(), Map.of("a", "b"))).dryRun("All")
        .execute();
    assertEquals("dry", dry.getMetadata().getName());
    assertEquals(404, assertThrows(ApiException.class, () -> core.readNamespacedConfigMap("dry", NS).execute()).getCode());
    core.deleteNamespacedConfigMap("page-1", NS).dryRun("All").execute();
    assertNotNull(core.readNamespacedConfigMap("page-1", NS).execute());

    // kube-apiserver answers a delete-collection with the list of what it deleted, which the generated API reads
    // into a V1Status with nothing set
    core.deleteCollectionNamespacedConfigMap(NS).labelSelector("app=paging").execute();
    assertEquals(0, core.listNamespacedConfigMap(NS).labelSelector("app=paging").execute().getItems().size());
  }

  @Test
  void patchFormats() throws Exception {
    core.createNamespacedConfigMap(NS, configMap("patched", Map.of("a", "1"), Map.of("k1", "v1"))).execute();
    V1ConfigMap json = PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap("patched", NS,
        new V1Patch("[{\"op\":\"add\",\"path\":\"/data/k2\",\"value\":\"v2\"}]")).buildCall(null),
        V1Patch.PATCH_FORMAT_JSON_PATCH, client);
    assertEquals(Map.of("k1", "v1", "k2", "v2"), json.getData());
    V1ConfigMap merge = PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap("patched", NS,
        new V1Patch("{\"data\":{\"k1\":null}}")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
    assertEquals(Map.of("k2", "v2"), merge.getData());
    V1ConfigMap strategic = PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap("patched", NS,
        new V1Patch("{\"metadata\":{\"labels\":{\"b\":\"2\"}}}")).buildCall(null),
        V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, client);
    assertEquals(Map.of("a", "1", "b", "2"), strategic.getMetadata().getLabels());
    // the generated API sends a patch as JSON patch unless told otherwise: a bad op is a 422
    ApiException bad = assertThrows(ApiException.class, () -> PatchUtils.patch(V1ConfigMap.class,
        () -> core.patchNamespacedConfigMap("patched", NS, new V1Patch("[{\"op\":\"test\",\"path\":\"/data/k2\","
            + "\"value\":\"nope\"}]")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_PATCH, client));
    assertTrue(bad.getCode() == 422 || bad.getCode() == 500 || bad.getCode() == 409, "code " + bad.getCode());

    V1ConfigMap applied = PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap("applied", NS,
        new V1Patch("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\"},"
            + "\"data\":{\"x\":\"1\"}}")).fieldManager("client-java-it").force(true).buildCall(null),
        V1Patch.PATCH_FORMAT_APPLY_YAML, client);
    assertEquals("1", applied.getData().get("x"));
  }

  @Test
  void deploymentsTypedAndGeneric() throws Exception {
    AppsV1Api apps = new AppsV1Api(client);
    V1Deployment d = new V1Deployment().metadata(new V1ObjectMeta().name("web").labels(Map.of("app", "web")))
        .spec(new V1DeploymentSpec().replicas(1).selector(new V1LabelSelector().matchLabels(Map.of("app", "web")))
            .template(new V1PodTemplateSpec().metadata(new V1ObjectMeta().labels(Map.of("app", "web")))
                .spec(new V1PodSpec().terminationGracePeriodSeconds(1L).containers(List.of(new V1Container()
                    .name("web").image("busybox").command(List.of("sh", "-c", "sleep 3600")))))));
    apps.createNamespacedDeployment(NS, d).execute();
    GenericKubernetesApi<V1Deployment, V1DeploymentList> deployments = new GenericKubernetesApi<>(V1Deployment.class,
        V1DeploymentList.class, "apps", "v1", "deployments", client);
    KubernetesApiResponse<V1Deployment> got = deployments.get(NS, "web");
    assertTrue(got.isSuccess());
    V1Deployment scaled = deployments.patch(NS, "web", V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        new V1Patch("{\"spec\":{\"replicas\":2}}")).throwsApiException().getObject();
    assertEquals(2, scaled.getSpec().getReplicas());
    KubernetesApiResponse<V1Deployment> missing = deployments.get(NS, "nope");
    assertFalse(missing.isSuccess());
    assertEquals(404, missing.getHttpStatusCode());
    assertEquals("NotFound", missing.getStatus().getReason());
    await(Duration.ofSeconds(90), () -> {
      V1Deployment x = deployments.get(NS, "web").getObject();
      return x.getStatus() != null && Integer.valueOf(2).equals(x.getStatus().getReadyReplicas());
    }, "two ready replicas");
    ListOptions opts = new ListOptions();
    opts.setLabelSelector("app=web");
    assertEquals(1, deployments.list(NS, opts).getObject().getItems().size());
    assertTrue(deployments.delete(NS, "web").isSuccess());
  }

  @Test
  void watchWithBookmarksAndGone() throws Exception {
    String rv = core.listNamespacedConfigMap(NS).execute().getMetadata().getResourceVersion();
    core.createNamespacedConfigMap(NS, configMap("w1", Map.of("watched", "yes"), Map.of())).execute();
    V1ConfigMap w1 = core.readNamespacedConfigMap("w1", NS).execute();
    w1.putDataItem("k", "v");
    core.replaceNamespacedConfigMap("w1", NS, w1).execute();
    core.deleteNamespacedConfigMap("w1", NS).execute();
    List<String> seen = new ArrayList<>();
    try (Watch<V1ConfigMap> watch = Watch.createWatch(client, core.listNamespacedConfigMap(NS).watch(true)
        .resourceVersion(rv).labelSelector("watched=yes").allowWatchBookmarks(true).timeoutSeconds(10)
        .buildCall(null), new TypeToken<Watch.Response<V1ConfigMap>>() { }.getType())) {
      for (Watch.Response<V1ConfigMap> ev : watch) {
        if (ev.type.equals("BOOKMARK")) continue;
        seen.add(ev.type + " " + ev.object.getMetadata().getName());
        if (seen.size() == 3) break;
      }
    }
    assertEquals(List.of("ADDED w1", "MODIFIED w1", "DELETED w1"), seen);

    // an expired resourceVersion arrives as an ERROR event carrying a 410 Status
    for (int i = 0; i < 260; i++) { // 520 writes: more than --history-count 500 keeps
      core.createNamespacedConfigMap(NS, configMap("churn", Map.of(), Map.of())).execute();
      core.deleteNamespacedConfigMap("churn", NS).execute();
    }
    try (Watch<V1ConfigMap> watch = Watch.createWatch(client, core.listNamespacedConfigMap(NS).watch(true)
        .resourceVersion("1").buildCall(null), new TypeToken<Watch.Response<V1ConfigMap>>() { }.getType())) {
      Watch.Response<V1ConfigMap> ev = watch.next();
      assertEquals("ERROR", ev.type);
      assertEquals(410, ev.status.getCode());
      assertEquals("Expired", ev.status.getReason());
    }
  }

  @Test
  void informerFactoryListerAndResync() throws Exception {
    core.createNamespacedConfigMap(NS, configMap("inf-pre", Map.of(), Map.of())).execute();
    SharedInformerFactory factory = new SharedInformerFactory(client);
    SharedIndexInformer<V1ConfigMap> informer = factory.sharedIndexInformerFor(
        (CallGeneratorParams p) -> core.listNamespacedConfigMap(NS).resourceVersion(p.resourceVersion)
            .watch(p.watch).timeoutSeconds(p.timeoutSeconds).allowWatchBookmarks(true).buildCall(null),
        V1ConfigMap.class, V1ConfigMapList.class, 1000);
    List<String> events = new CopyOnWriteArrayList<>();
    AtomicInteger resyncs = new AtomicInteger();
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(V1ConfigMap obj) {
        events.add("add " + obj.getMetadata().getName());
      }

      @Override
      public void onUpdate(V1ConfigMap oldObj, V1ConfigMap newObj) {
        if (oldObj.getMetadata().getResourceVersion().equals(newObj.getMetadata().getResourceVersion())) {
          resyncs.incrementAndGet();
        } else {
          events.add("update " + newObj.getMetadata().getName());
        }
      }

      @Override
      public void onDelete(V1ConfigMap obj, boolean deletedFinalStateUnknown) {
        events.add("delete " + obj.getMetadata().getName());
      }
    });
    factory.startAllRegisteredInformers();
    try {
      await(Duration.ofSeconds(20), informer::hasSynced, "the informer to sync");
      assertTrue(events.contains("add inf-pre"), String.valueOf(events));
      core.createNamespacedConfigMap(NS, configMap("inf-new", Map.of(), Map.of("color", "red"))).execute();
      PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap("inf-new", NS,
          new V1Patch("{\"data\":{\"color\":\"blue\"}}")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
      core.deleteNamespacedConfigMap("inf-pre", NS).execute();
      await(Duration.ofSeconds(20), () -> events.containsAll(List.of("add inf-new", "update inf-new",
          "delete inf-pre")), "add/update/delete, got " + events);
      await(Duration.ofSeconds(10), () -> resyncs.get() >= 2, "resyncs");
      Lister<V1ConfigMap> lister = new Lister<>(informer.getIndexer(), NS);
      await(Duration.ofSeconds(10), () -> lister.get("inf-new") != null
          && "blue".equals(lister.get("inf-new").getData().get("color")), "the lister to see the patch");
      assertNull(lister.get("inf-pre"));
    } finally {
      factory.stopAllRegisteredInformers();
    }
  }

  @Test
  void customResourcesGenericDynamicAndCustomObjectsApi() throws Exception {
    V1CustomResourceDefinition crd = Yaml.loadAs("""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gadgets.java.kvx.io
        spec:
          group: java.kvx.io
          scope: Namespaced
          names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {size: {type: integer}}}
                  status: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """, V1CustomResourceDefinition.class);
    var extensions = new io.kubernetes.client.openapi.apis.ApiextensionsV1Api(client);
    try {
      extensions.createCustomResourceDefinition(crd).execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) throw e;
    }
    await(Duration.ofSeconds(30), () -> {
      try {
        return extensions.readCustomResourceDefinition("gadgets.java.kvx.io").execute().getStatus().getConditions()
            .stream().anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
      } catch (ApiException e) {
        return false;
      }
    }, "the CRD to be established");

    CustomObjectsApi custom = new CustomObjectsApi(client);
    Map<String, Object> body = Map.of("apiVersion", "java.kvx.io/v1", "kind", "Gadget",
        "metadata", Map.of("name", "g1", "labels", Map.of("tier", "gold")), "spec", Map.of("size", 3));
    custom.createNamespacedCustomObject("java.kvx.io", "v1", NS, "gadgets", body).execute();
    @SuppressWarnings("unchecked")
    Map<String, Object> listed = (Map<String, Object>) custom.listNamespacedCustomObject("java.kvx.io", "v1", NS,
        "gadgets").labelSelector("tier=gold").execute();
    assertEquals(1, ((List<?>) listed.get("items")).size());
    // CustomObjectsApi sends application/json, which a PATCH refuses (415): users go through PatchUtils
    assertEquals(415, assertThrows(ApiException.class, () -> custom.patchNamespacedCustomObjectStatus("java.kvx.io",
        "v1", NS, "gadgets", "g1", Map.of("status", Map.of("phase", "Ready"))).execute()).getCode());
    PatchUtils.patch(Object.class, () -> custom.patchNamespacedCustomObjectStatus("java.kvx.io", "v1", NS, "gadgets",
        "g1", Map.of("status", Map.of("phase", "Ready"))).buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
    ApiException missing = assertThrows(ApiException.class,
        () -> custom.getNamespacedCustomObject("java.kvx.io", "v1", NS, "gadgets", "nope").execute());
    assertEquals(404, missing.getCode());

    DynamicKubernetesApi dynamic = new DynamicKubernetesApi("java.kvx.io", "v1", "gadgets", client);
    DynamicKubernetesObject g1 = dynamic.get(NS, "g1").throwsApiException().getObject();
    assertEquals("Ready", g1.getRaw().getAsJsonObject("status").get("phase").getAsString());
    assertEquals(3, g1.getRaw().getAsJsonObject("spec").get("size").getAsInt());
    JsonObject spec = g1.getRaw().getAsJsonObject("spec");
    spec.addProperty("size", 4);
    g1.getRaw().getAsJsonObject("status").addProperty("phase", "Ignored");
    DynamicKubernetesObject updated = dynamic.update(g1).throwsApiException().getObject();
    assertEquals(4, updated.getRaw().getAsJsonObject("spec").get("size").getAsInt());
    assertEquals("Ready", updated.getRaw().getAsJsonObject("status").get("phase").getAsString());
    // updateStatus sends its JSON patch as application/json, which kube-apiserver refuses with a 415 too
    // (kubernetes-client/java#3143); a merge patch of the status subresource through PatchUtils works
    assertEquals(415, dynamic.updateStatus(updated, o -> o.getRaw().get("status")).getHttpStatusCode());
    PatchUtils.patch(Object.class, () -> custom.patchNamespacedCustomObjectStatus("java.kvx.io", "v1", NS, "gadgets",
        "g1", Map.of("status", Map.of("phase", "Done"))).buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
    assertEquals("Done", dynamic.get(NS, "g1").getObject().getRaw().getAsJsonObject("status").get("phase")
        .getAsString());
    assertTrue(dynamic.delete(NS, "g1").isSuccess());
    extensions.deleteCustomResourceDefinition("gadgets.java.kvx.io").execute();
  }

  @Test
  void leaderElectionWithALeaseLock() throws Exception {
    CountDownLatch firstLeads = new CountDownLatch(1);
    CountDownLatch secondLeads = new CountDownLatch(1);
    LeaderElector first = new LeaderElector(new LeaderElectionConfig(new LeaseLock(NS, "java-lock", "first", client),
        Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500)));
    LeaderElector second = new LeaderElector(new LeaderElectionConfig(new LeaseLock(NS, "java-lock", "second",
        client), Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500)));
    Thread t1 = Thread.ofVirtual().start(() -> first.run(firstLeads::countDown, () -> { }));
    assertTrue(firstLeads.await(20, TimeUnit.SECONDS), "first never led");
    Thread t2 = Thread.ofVirtual().start(() -> second.run(secondLeads::countDown, () -> { }));
    Thread.sleep(1500);
    assertEquals(1, secondLeads.getCount(), "second led while first held the lease");
    assertEquals("first", new CoordinationV1Api(client).readNamespacedLease("java-lock", NS).execute().getSpec()
        .getHolderIdentity());
    first.close();
    assertTrue(secondLeads.await(20, TimeUnit.SECONDS), "second never took over");
    assertEquals("second", new CoordinationV1Api(client).readNamespacedLease("java-lock", NS).execute().getSpec()
        .getHolderIdentity());
    second.close();
    t1.join(5000);
    t2.join(5000);
  }

  @Test
  void eventsCoreAndEventsV1() throws Exception {
    core.createNamespacedEvent(NS, new CoreV1Event().metadata(new V1ObjectMeta().name("ev1"))
        .involvedObject(new V1ObjectReference().kind("ConfigMap").name("x").namespace(NS)).reason("Tested")
        .message("hello").type("Normal")).execute();
    assertEquals("hello", core.listNamespacedEvent(NS).fieldSelector("reason=Tested").execute().getItems().getFirst()
        .getMessage());
    EventsV1Api events = new EventsV1Api(client);
    events.createNamespacedEvent(NS, new EventsV1Event().metadata(new V1ObjectMeta().name("ev2")).reason("TestedV1")
        .note("note").action("Test").type("Normal").reportingController("kvx.io/client-java-it")
        .reportingInstance("it-1").eventTime(OffsetDateTime.now())
        .regarding(new V1ObjectReference().kind("ConfigMap").name("x").namespace(NS))).execute();
    assertEquals("note", events.readNamespacedEvent("ev2", NS).execute().getNote());
  }

  @Test
  void logsExecAndProtobufOnARunningPod() throws Exception {
    core.createNamespacedPod(NS, new V1Pod().metadata(new V1ObjectMeta().name("talker")).spec(new V1PodSpec()
        .terminationGracePeriodSeconds(1L).containers(List.of(new V1Container().name("main").image("busybox")
            .command(List.of("sh", "-c", "echo line-1; echo line-2; while true; do sleep 0.5; echo tick; done"))))))
        .execute();
    await(Duration.ofSeconds(90), () -> {
      try {
        return "Running".equals(core.readNamespacedPod("talker", NS).execute().getStatus().getPhase());
      } catch (ApiException e) {
        return false;
      }
    }, "the pod to run");
    await(Duration.ofSeconds(20), () -> {
      try {
        // an empty log reads as null
        return String.valueOf(core.readNamespacedPodLog("talker", NS).execute()).contains("tick");
      } catch (ApiException e) {
        return false;
      }
    }, "the log");
    assertTrue(core.readNamespacedPodLog("talker", NS).execute().startsWith("line-1\nline-2\n"));
    assertEquals("tick\n", core.readNamespacedPodLog("talker", NS).tailLines(1).execute());
    try (InputStream follow = new PodLogs(client).streamNamespacedPodLog(NS, "talker", "main")) {
      byte[] buf = new byte[64];
      int n = follow.read(buf);
      assertTrue(n > 0 && new String(buf, 0, n, StandardCharsets.UTF_8).startsWith("line-1"));
    }

    Process p = new Exec(client).exec(NS, "talker", new String[] {"sh", "-c", "echo to-out; echo to-err >&2; exit 4"},
        false, false);
    InputStream stdout = p.getInputStream(); // both before either ends: a closed stream cannot be asked for later
    InputStream stderr = p.getErrorStream();
    String out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(stderr.readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(4, p.exitValue());
    assertEquals("to-out\n", out);
    assertEquals("to-err\n", err);
    Process cat = new Exec(client).exec(NS, "talker", new String[] {"cat"}, true, false);
    cat.getOutputStream().write("through stdin\n".getBytes(StandardCharsets.UTF_8));
    cat.getOutputStream().flush();
    byte[] echoed = new byte[14];
    int read = 0;
    while (read < echoed.length) {
      int n = cat.getInputStream().read(echoed, read, echoed.length - read);
      if (n < 0) break;
      read += n;
    }
    assertEquals("through stdin\n", new String(echoed, 0, read, StandardCharsets.UTF_8));
    cat.destroy();

    // port-forward to a busybox httpd started in the pod
    Process httpd = new Exec(client).exec(NS, "talker", new String[] {"sh", "-c",
        "echo forwarded-by-client-java > /tmp/index.html; httpd -p 8080 -h /tmp"}, false, false);
    assertTrue(httpd.waitFor(30, TimeUnit.SECONDS));
    PortForward.PortForwardResult forward = new PortForward(client).forward(NS, "talker", List.of(8080));
    InputStream page = forward.getInputStream(8080); // before the request: the stream is gone once httpd hangs up
    forward.getOutboundStream(8080).write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    forward.getOutboundStream(8080).flush();
    StringBuilder response = new StringBuilder();
    byte[] chunk = new byte[4096];
    long deadline = System.currentTimeMillis() + 20_000;
    while (!response.toString().contains("forwarded-by-client-java") && System.currentTimeMillis() < deadline) {
      int n = page.read(chunk);
      if (n < 0) break;
      response.append(new String(chunk, 0, n, StandardCharsets.US_ASCII));
    }
    assertTrue(response.toString().startsWith("HTTP/1.") && response.toString().contains("forwarded-by-client-java"),
        response.toString());

    core.deleteNamespacedPod("talker", NS).execute();
  }

  @Test
  void protobufClient() throws Exception {
    ProtoClient proto = new ProtoClient(client);
    ProtoClient.ObjectOrStatus<V1.ConfigMap> created = proto.create(V1.ConfigMap.newBuilder()
        .setMetadata(Meta.ObjectMeta.newBuilder().setName("from-proto").setNamespace(NS)).putData("k", "v").build(),
        "/api/v1/namespaces/" + NS + "/configmaps", "v1", "ConfigMap");
    assertNotNull(created.object, String.valueOf(created.status));
    assertEquals("v", core.readNamespacedConfigMap("from-proto", NS).execute().getData().get("k"));
    ProtoClient.ObjectOrStatus<V1.ConfigMap> got = proto.get(V1.ConfigMap.newBuilder(), "/api/v1/namespaces/" + NS
        + "/configmaps/from-proto");
    assertNotNull(got.object, String.valueOf(got.status));
    assertEquals("v", got.object.getDataMap().get("k"));
    ProtoClient.ObjectOrStatus<V1.ConfigMapList> list = proto.list(V1.ConfigMapList.newBuilder(),
        "/api/v1/namespaces/" + NS + "/configmaps");
    assertTrue(list.object.getItemsList().stream().anyMatch(x -> x.getMetadata().getName().equals("from-proto")));
    ProtoClient.ObjectOrStatus<V1.ConfigMap> none = proto.get(V1.ConfigMap.newBuilder(), "/api/v1/namespaces/" + NS
        + "/configmaps/no-such");
    assertNotNull(none.status);
    assertEquals(404, none.status.getCode());
  }
}
