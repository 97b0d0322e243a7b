package io.kvx.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API surface of issue 5 through the real kubectl binary, against an API server alone (roles sequencer and
 * apiserver: no controller writes status or removes finalizers behind the test's back): every kind of point 1
 * created, read, listed, watched, labelled and annotated (patches), replaced (update) and deleted; the scale and
 * status subresources, namespaces/finalize and serviceaccounts/token; kubectl annotate, replace, cluster-info and
 * api-versions with their output; bodies over 3 MiB refused with a 413 Status; apiserver_request_total,
 * apiserver_request_duration_seconds and the open-watch gauge after known requests; HTTP/2 by ALPN (kubectl's
 * connection, a watch and creates multiplexed on one connection, a cancelled stream ending its watch).
 * Own ports 18403/5403 (no node: no bridge).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiSurfaceIT {

  private static final int PORT = 18403;
  private static KvxProcess kvx;
  private static Kubectl k;
  private static ApiHttp api;
  private static Path dir;

  /** One kind of point 1: its kubectl resource name, apiVersion, kind, scope and the rest of a valid manifest. */
  private record Kind(String resource, String apiVersion, String kind, boolean namespaced, String body) {}

  private static final List<Kind> KINDS = List.of(
      new Kind("configmaps", "v1", "ConfigMap", true, "data: {a: b}"),
      new Kind("secrets", "v1", "Secret", true, "stringData: {a: b}"),
      new Kind("services", "v1", "Service", true, "spec: {ports: [{port: 80}], selector: {app: x}}"),
      new Kind("endpoints", "v1", "Endpoints", true,
          "subsets: [{addresses: [{ip: 10.154.0.9}], ports: [{port: 80}]}]"),
      new Kind("serviceaccounts", "v1", "ServiceAccount", true, "automountServiceAccountToken: false"),
      new Kind("events", "v1", "Event", true, "involvedObject: {kind: Pod, name: p, namespace: default}\n"
          + "reason: Tested\nmessage: core event"),
      new Kind("resourcequotas", "v1", "ResourceQuota", true, "spec: {hard: {pods: \"100\"}}"),
      new Kind("limitranges", "v1", "LimitRange", true, "spec: {limits: [{type: Container, max: {cpu: \"4\"}}]}"),
      new Kind("persistentvolumes", "v1", "PersistentVolume", false,
          "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /tmp/kvx-it-pv}}"),
      new Kind("persistentvolumeclaims", "v1", "PersistentVolumeClaim", true,
          "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: none}"),
      new Kind("replicationcontrollers", "v1", "ReplicationController", true, "spec: {replicas: 0, selector: "
          + "{app: rc}, template: {metadata: {labels: {app: rc}}, spec: {containers: [{name: c, image: busybox}]}}}"),
      new Kind("pods", "v1", "Pod", true, "spec: {containers: [{name: c, image: busybox}]}"),
      new Kind("nodes", "v1", "Node", false, "spec: {unschedulable: true}"),
      new Kind("namespaces", "v1", "Namespace", false, "spec: {}"),
      new Kind("deployments", "apps/v1", "Deployment", true, "spec: {replicas: 0, selector: {matchLabels: "
          + "{app: d}}, template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: busybox}]}}}"),
      new Kind("replicasets", "apps/v1", "ReplicaSet", true, "spec: {replicas: 0, selector: {matchLabels: "
          + "{app: rs}}, template: {metadata: {labels: {app: rs}}, spec: {containers: [{name: c, image: busybox}]}}}"),
      new Kind("statefulsets", "apps/v1", "StatefulSet", true, "spec: {replicas: 0, serviceName: s, selector: "
          + "{matchLabels: {app: s}}, template: {metadata: {labels: {app: s}}, spec: {containers: "
          + "[{name: c, image: busybox}]}}}"),
      new Kind("daemonsets", "apps/v1", "DaemonSet", true, "spec: {selector: {matchLabels: {app: ds}}, template: "
          + "{metadata: {labels: {app: ds}}, spec: {containers: [{name: c, image: busybox}]}}}"),
      new Kind("controllerrevisions", "apps/v1", "ControllerRevision", true, "revision: 1\ndata: {spec: {x: 1}}"),
      new Kind("jobs", "batch/v1", "Job", true, "spec: {suspend: true, template: {spec: {restartPolicy: Never, "
          + "containers: [{name: c, image: busybox}]}}}"),
      new Kind("cronjobs", "batch/v1", "CronJob", true, "spec: {schedule: \"0 0 1 1 *\", jobTemplate: {spec: "
          + "{template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}"),
      new Kind("leases", "coordination.k8s.io/v1", "Lease", true,
          "spec: {holderIdentity: me, leaseDurationSeconds: 10}"),
      new Kind("endpointslices", "discovery.k8s.io/v1", "EndpointSlice", true, "addressType: IPv4\n"
          + "endpoints: [{addresses: [10.154.0.9]}]"),
      new Kind("priorityclasses", "scheduling.k8s.io/v1", "PriorityClass", false, "value: 1000"),
      new Kind("roles", "rbac.authorization.k8s.io/v1", "Role", true,
          "rules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]"),
      new Kind("rolebindings", "rbac.authorization.k8s.io/v1", "RoleBinding", true, "roleRef: {apiGroup: "
          + "rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: default}]"),
      new Kind("clusterroles", "rbac.authorization.k8s.io/v1", "ClusterRole", false,
          "rules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]"),
      new Kind("clusterrolebindings", "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", false,
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}"),
      new Kind("events.events.k8s.io", "events.k8s.io/v1", "Event", true, "eventTime: \"2026-01-01T00:00:00.000000Z\"\n"
          + "reportingController: kvx.io/it\nreportingInstance: it-1\naction: Test\nreason: Tested\ntype: Normal\n"
          + "note: new-style event\nregarding: {kind: Pod, name: p, namespace: default}"),
      new Kind("horizontalpodautoscalers.v1.autoscaling", "autoscaling/v1", "HorizontalPodAutoscaler", true,
          "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}, maxReplicas: 3}"),
      new Kind("horizontalpodautoscalers.v2.autoscaling", "autoscaling/v2", "HorizontalPodAutoscaler", true,
          "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}, maxReplicas: 3, metrics: "
              + "[{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 60}}}]}"),
      new Kind("poddisruptionbudgets", "policy/v1", "PodDisruptionBudget", true,
          "spec: {minAvailable: 1, selector: {matchLabels: {app: x}}}"),
      new Kind("customresourcedefinitions", "apiextensions.k8s.io/v1", "CustomResourceDefinition", false, """
          spec:
            group: table.kvx.io
            scope: Namespaced
            names: {plural: gadgets, singular: gadget, kind: Gadget}
            versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object,
              x-kubernetes-preserve-unknown-fields: true}}}]"""),
      new Kind("ingresses", "networking.k8s.io/v1", "Ingress", true, "spec: {rules: [{host: a.example.com, http: "
          + "{paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}"),
      new Kind("networkpolicies", "networking.k8s.io/v1", "NetworkPolicy", true, "spec: {podSelector: {}, ingress: "
          + "[{from: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 80}]}]}"),
      new Kind("validatingadmissionpolicies", "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", false,
          "spec: {matchConstraints: {resourceRules: [{apiGroups: [gaps.kvx.io], apiVersions: ['*'], operations: "
              + "[CREATE], resources: [widgets]}]}, validations: [{expression: \"object.spec.size != 'huge'\"}]}"),
      new Kind("validatingadmissionpolicybindings", "admissionregistration.k8s.io/v1",
          "ValidatingAdmissionPolicyBinding", false, "spec: {policyName: no-such-policy, validationActions: [Deny]}"),
      new Kind("widgets", "gaps.kvx.io/v1", "Widget", true, "spec: {size: small, replicas: 1}"));

  /** kubectl get -o wide's header per kind, as kube-apiserver's printers make it (columns apart by 2+ spaces). */
  private static final Map<String, String> WIDE = Map.ofEntries(
      Map.entry("configmaps", "NAME|DATA|AGE"),
      Map.entry("secrets", "NAME|TYPE|DATA|AGE"),
      Map.entry("services", "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE|SELECTOR"),
      Map.entry("endpoints", "NAME|ENDPOINTS|AGE"),
      Map.entry("serviceaccounts", "NAME|SECRETS|AGE"),
      Map.entry("events", "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"),
      Map.entry("resourcequotas", "NAME|AGE|REQUEST|LIMIT"),
      Map.entry("limitranges", "NAME|CREATED AT"),
      Map.entry("persistentvolumes", "NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|"
          + "VOLUMEATTRIBUTESCLASS|REASON|AGE|VOLUMEMODE"),
      Map.entry("persistentvolumeclaims", "NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|"
          + "VOLUMEATTRIBUTESCLASS|AGE|VOLUMEMODE"),
      Map.entry("replicationcontrollers", "NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"),
      Map.entry("pods", "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES"),
      Map.entry("nodes", "NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|"
          + "CONTAINER-RUNTIME"),
      Map.entry("namespaces", "NAME|STATUS|AGE"),
      Map.entry("deployments", "NAME|READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR"),
      Map.entry("replicasets", "NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"),
      Map.entry("statefulsets", "NAME|READY|AGE|CONTAINERS|IMAGES"),
      Map.entry("daemonsets", "NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE|CONTAINERS|"
          + "IMAGES|SELECTOR"),
      Map.entry("controllerrevisions", "NAME|CONTROLLER|REVISION|AGE"),
      Map.entry("jobs", "NAME|STATUS|COMPLETIONS|DURATION|AGE|CONTAINERS|IMAGES|SELECTOR"),
      Map.entry("cronjobs", "NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE|CONTAINERS|IMAGES|SELECTOR"),
      Map.entry("leases", "NAME|HOLDER|AGE"),
      Map.entry("endpointslices", "NAME|ADDRESSTYPE|PORTS|ENDPOINTS|AGE"),
      Map.entry("priorityclasses", "NAME|VALUE|GLOBAL-DEFAULT|AGE|PREEMPTIONPOLICY"),
      Map.entry("roles", "NAME|CREATED AT"),
      Map.entry("rolebindings", "NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"),
      Map.entry("clusterroles", "NAME|CREATED AT"),
      Map.entry("clusterrolebindings", "NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"),
      Map.entry("events.events.k8s.io", "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"),
      Map.entry("horizontalpodautoscalers.v1.autoscaling", "NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE"),
      Map.entry("horizontalpodautoscalers.v2.autoscaling", "NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE"),
      Map.entry("poddisruptionbudgets", "NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE"),
      Map.entry("customresourcedefinitions", "NAME|CREATED AT"),
      Map.entry("ingresses", "NAME|CLASS|HOSTS|ADDRESS|PORTS|AGE"),
      Map.entry("networkpolicies", "NAME|POD-SELECTOR|AGE"),
      Map.entry("validatingadmissionpolicies", "NAME|VALIDATIONS|PARAMKIND|AGE"),
      Map.entry("validatingadmissionpolicybindings", "NAME|POLICYNAME|PARAMREF|AGE"),
      Map.entry("widgets", "NAME|SIZE"));  // its printer columns only, as kube: no Age added

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-apisurface");
    dir = Files.createTempDirectory("kvx-it-apisurface-files");
    kvx = KvxProcess.start("apisurface", home, PORT, "up", "--cluster-port", "5403", "--secret", "it-apisurface",
        "--roles", "sequencer,apiserver");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    api = new ApiHttp(kvx);
    // The custom kind of the table, with status and scale subresources and a printer column.
    k.ok("apply", "-f", file("widgets-crd.yaml", """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.gaps.kvx.io}
        spec:
          group: gaps.kvx.io
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget}
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas,
                      labelSelectorPath: .status.selector}
            additionalPrinterColumns:
            - {name: Size, type: string, jsonPath: .spec.size}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: string}
                      replicas: {type: integer}
                  status:
                    type: object
                    properties:
                      replicas: {type: integer}
                      selector: {type: string}
                      phase: {type: string}
        """).toString());
    k.await(Duration.ofSeconds(20), out -> out.contains("widgets"), "api-resources", "--api-group=gaps.kvx.io");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static Path file(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  @Test
  @Order(1)
  void everyKindIsCreatedReadListedWatchedPatchedReplacedAndDeletedWithKubectl() throws Exception {
    long t0 = System.currentTimeMillis();
    for (int i = 0; i < KINDS.size(); i++) {
      Kind kind = KINDS.get(i);
      String name = kind.kind().equals("CustomResourceDefinition") ? "gadgets.table.kvx.io" : "table-" + i;
      String what = kind.resource() + "/" + name;
      Path watchOut = dir.resolve("watch-" + i + ".txt");
      Process watch = k.start(watchOut, "get", kind.resource(), "--field-selector", "metadata.name=" + name, "-w",
          "--output-watch-events", "--no-headers");
      try {
        Path manifest = file("kind-" + i + ".yaml", "apiVersion: " + kind.apiVersion() + "\nkind: " + kind.kind()
            + "\nmetadata: {name: " + name + (kind.namespaced() ? ", namespace: default" : "") + "}\n"
            + kind.body() + "\n");
        assertTrue(k.ok("create", "-f", manifest.toString()).contains(" created"), what);

        JsonObject got = new JsonObject(k.ok("get", kind.resource(), name, "-o", "json"));
        assertEquals(kind.kind(), got.getString("kind"), what);
        assertEquals(kind.apiVersion(), got.getString("apiVersion"), what);
        assertEquals(name, got.getJsonObject("metadata").getString("name"), what);
        String list = k.ok("get", kind.resource(), "-o", "custom-columns=NAME:.metadata.name", "--no-headers");
        assertTrue(list.lines().anyMatch(name::equals), what + " in the list: " + list);
        // the table kubectl prints by default: a row per object, under the kind's columns
        String table = k.ok("get", kind.resource());
        assertTrue(table.lines().anyMatch(l -> l.startsWith(name + " ")) || kind.kind().equals("Event")
            && table.contains("Tested"), what + " in the table: " + table);
        String wideHeader = k.ok("get", kind.resource(), "--field-selector", "metadata.name=" + name, "-o", "wide")
            .lines().findFirst().orElse("");
        assertEquals(WIDE.get(kind.resource()), String.join("|", wideHeader.trim().split("\\s{2,}")),
            what + " -o wide columns");

        assertTrue(k.ok("label", kind.resource(), name, "step=labelled").contains(" labeled"), what);
        assertTrue(k.ok("annotate", kind.resource(), name, "note=annotated").contains(" annotated"), what);
        JsonObject current = new JsonObject(k.ok("get", kind.resource(), name, "-o", "json"));
        current.getJsonObject("metadata").getJsonObject("labels").put("replaced", "yes");
        Path replacement = file("kind-" + i + "-replace.json", current.encode());
        assertTrue(k.ok("replace", "-f", replacement.toString()).contains(" replaced"), what);
        assertEquals("labelled yes annotated", k.ok("get", kind.resource(), name, "-o",
            "jsonpath={.metadata.labels.step} {.metadata.labels.replaced} {.metadata.annotations.note}"), what);

        assertTrue(k.ok("delete", kind.resource(), name, "--wait=false").contains("deleted"), what);
        if (kind.kind().equals("Namespace")) {
          // Without a namespace controller the namespace stays Terminating until its finalizer is removed.
          assertEquals("Terminating", k.ok("get", "namespace", name, "-o", "jsonpath={.status.phase}"));
          finalizeNamespace(name);
        }
        if (kind.resource().startsWith("persistentvolume")) {
          assertEquals("Filesystem", k.ok("get", kind.resource(), name, "-o", "jsonpath={.spec.volumeMode}"), what);
          // held by the pv/pvc-protection finalizer, which the (absent) controller manager would remove
          assertEquals("Terminating", k.ok("get", kind.resource(), name).lines().skip(1).findFirst().orElseThrow()
              .split("\\s+")[kind.kind().equals("PersistentVolume") ? 4 : 1]);
          k.ok("patch", kind.resource(), name, "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
        }
        awaitGone(kind.resource(), name);
      } catch (AssertionError e) {
        throw e;
      } catch (Exception e) {
        throw new AssertionError(what + ": " + e, e);
      }
      try {
        long deadline = System.currentTimeMillis() + 20_000;
        List<String> events;
        do {
          Thread.sleep(100);
          // kubectl's stderr is in the file too: kube's deprecation warning of v1 Endpoints comes first there.
          events = Files.readAllLines(watchOut).stream().filter(l -> !l.startsWith("Warning: "))
              .map(l -> l.split("\\s+")[0]).toList();
        } while (!events.contains("DELETED") && System.currentTimeMillis() < deadline);
        // created, labelled, annotated, replaced, deleted (a namespace: also finalized, i.e. emptied first)
        assertEquals("ADDED", events.getFirst(), what + " watch: " + events);
        assertEquals("DELETED", events.getLast(), what + " watch: " + events);
        assertTrue(events.stream().filter("MODIFIED"::equals).count() >= 3, what + " watch: " + events);
      } finally {
        watch.destroy();
      }
    }
    System.out.println("CRUD + watch of " + KINDS.size() + " kinds with kubectl in "
        + (System.currentTimeMillis() - t0) + " ms");
    // The table of events.k8s.io events names what they regard and their note, as kubectl prints them.
    Path ev = file("ev.yaml", "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: shown}\n"
        + KINDS.stream().filter(x -> x.apiVersion().equals("events.k8s.io/v1")).findFirst().orElseThrow().body());
    k.ok("create", "-f", ev.toString());
    String table = k.ok("get", "events.events.k8s.io", "shown");
    assertTrue(table.contains("pod/p") && table.contains("new-style event"), table);
  }

  private static void awaitGone(String resource, String name) throws Exception {
    long deadline = System.currentTimeMillis() + 20_000;
    Kubectl.Result r;
    do {
      r = k.run("get", resource, name);
      if (r.code() != 0 && r.out().contains("NotFound")) return;
      Thread.sleep(200);
    } while (System.currentTimeMillis() < deadline);
    throw new AssertionError(resource + "/" + name + " is still there: " + r.out());
  }

  private static void finalizeNamespace(String name) throws Exception {
    JsonObject ns = new JsonObject(k.ok("get", "namespace", name, "-o", "json"));
    assertEquals("[\"kubernetes\"]", ns.getJsonObject("spec").getJsonArray("finalizers").encode());
    ns.getJsonObject("spec").put("finalizers", new io.vertx.core.json.JsonArray());
    Path body = file("finalize-" + name + ".json", ns.encode());
    k.ok("replace", "--raw", "/api/v1/namespaces/" + name + "/finalize", "-f", body.toString());
  }

  @Test
  @Order(2)
  void scaleStatusFinalizeAndTokenSubresources() throws Exception {
    k.ok("apply", "-f", file("subresources.yaml", """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec: {replicas: 1, serviceName: web, selector: {matchLabels: {app: web}},
               template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: busybox}]}}}
        ---
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: rcs}
        spec: {replicas: 1, selector: {app: rcs},
               template: {metadata: {labels: {app: rcs}}, spec: {containers: [{name: c, image: busybox}]}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: lb}
        spec: {type: LoadBalancer, ports: [{port: 80}], selector: {app: lb}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: fake-node}
        ---
        apiVersion: gaps.kvx.io/v1
        kind: Widget
        metadata: {name: w1}
        spec: {size: small, replicas: 1}
        """).toString());

    // statefulsets/scale and replicationcontrollers/scale: kubectl scale, and the Scale object itself
    assertTrue(k.ok("scale", "statefulset", "web", "--replicas=3").contains("scaled"));
    assertEquals("autoscaling/v1 Scale 3 app=web", k.ok("get", "statefulset", "web", "--subresource=scale", "-o",
        "jsonpath={.apiVersion} {.kind} {.spec.replicas} {.status.selector}"));
    assertEquals("3", k.ok("get", "statefulset", "web", "-o", "jsonpath={.spec.replicas}"));
    assertTrue(k.ok("scale", "rc", "rcs", "--replicas=4").contains("scaled"));
    assertEquals("Scale 4 app=rcs", k.ok("get", "rc", "rcs", "--subresource=scale", "-o",
        "jsonpath={.kind} {.spec.replicas} {.status.selector}"));
    assertEquals("4", k.ok("get", "rc", "rcs", "-o", "jsonpath={.spec.replicas}"));
    // --current-replicas is a precondition kubectl checks against the scale subresource
    Kubectl.Result stale = k.run("scale", "rc", "rcs", "--current-replicas=2", "--replicas=5");
    assertNotEquals(0, stale.code());
    assertTrue(stale.out().contains("Expected replicas to be 2, was 4"), stale.out());

    // statefulsets/status: status only through the subresource, spec never through it
    k.ok("patch", "statefulset", "web", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"replicas\":3,\"readyReplicas\":2,\"availableReplicas\":2},\"spec\":{\"replicas\":9}}");
    assertEquals("3 2 3", k.ok("get", "statefulset", "web", "-o",
        "jsonpath={.status.replicas} {.status.readyReplicas} {.spec.replicas}"));
    assertTrue(k.ok("get", "statefulset", "web").contains(" 2/3 "));
    assertTrue(k.ok("patch", "statefulset", "web", "--type=merge", "-p", "{\"status\":{\"readyReplicas\":0}}")
        .contains("(no change)"));
    assertEquals("2", k.ok("get", "statefulset", "web", "-o", "jsonpath={.status.readyReplicas}"));

    // services/status: a load balancer's address, shown by kubectl as the EXTERNAL-IP
    k.ok("patch", "service", "lb", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.154.0.200\"}]}}}");
    String svc = k.ok("get", "service", "lb");
    assertTrue(svc.contains("LoadBalancer") && svc.contains("10.154.0.200"), svc);
    k.ok("patch", "service", "lb", "--type=merge", "-p",
        "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.154.0.201\"}]}}}");
    assertEquals("10.154.0.200", k.ok("get", "service", "lb", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"));

    // nodes/status: what a kubelet reports; allocatable defaults to capacity as Kubernetes defaults it
    String now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    k.ok("patch", "node", "fake-node", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"},\"conditions\":[{\"type\":"
            + "\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"ok\",\"lastHeartbeatTime\":\""
            + now + "\",\"lastTransitionTime\":\"" + now + "\"}],\"nodeInfo\":{\"kubeletVersion\":\"v1.35.0\"}}}");
    String node = k.ok("get", "node", "fake-node", "--no-headers");
    assertTrue(node.matches("fake-node\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.35\\.0\\s*"), node);
    assertEquals("4 8Gi", k.ok("get", "node", "fake-node", "-o",
        "jsonpath={.status.allocatable.cpu} {.status.allocatable.memory}"));
    String described = k.ok("describe", "node", "fake-node");
    assertTrue(described.contains("Allocatable:") && described.contains("KubeletReady"), described);

    // custom resources: status and scale subresources
    k.ok("scale", "widget", "w1", "--replicas=3");
    k.ok("patch", "widget", "w1", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"replicas\":3,\"selector\":\"app=w1\",\"phase\":\"Ready\"},\"spec\":{\"size\":\"large\"}}");
    assertEquals("3 3 small Ready", k.ok("get", "widget", "w1", "-o",
        "jsonpath={.spec.replicas} {.status.replicas} {.spec.size} {.status.phase}"));
    assertEquals("Scale 3 3 app=w1", k.ok("get", "widget", "w1", "--subresource=scale", "-o",
        "jsonpath={.kind} {.spec.replicas} {.status.replicas} {.status.selector}"));
    k.ok("patch", "widget", "w1", "--type=merge", "-p", "{\"status\":{\"phase\":\"Broken\"}}");
    assertEquals("Ready", k.ok("get", "widget", "w1", "-o", "jsonpath={.status.phase}"));
    assertTrue(k.ok("get", "widgets").contains("small"));

    // namespaces/status and namespaces/finalize: a deleted namespace is Terminating until finalized, then gone
    k.ok("create", "namespace", "doomed");
    k.ok("create", "configmap", "inside", "-n", "doomed");
    k.ok("delete", "namespace", "doomed", "--wait=false");
    assertEquals("Terminating", k.ok("get", "namespace", "doomed", "-o", "jsonpath={.status.phase}"));
    Kubectl.Result refused = k.run("create", "configmap", "late", "-n", "doomed");
    assertTrue(refused.code() != 0 && refused.out().contains("configmaps \"late\" is forbidden: unable to create new "
        + "content in namespace doomed because it is being terminated"), refused.out());
    k.ok("patch", "namespace", "doomed", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"conditions\":[{\"type\":\"NamespaceContentRemaining\",\"status\":\"True\",\"reason\":"
            + "\"SomeResourcesRemain\",\"message\":\"configmaps has 1 resource instances\"}]}}");
    assertTrue(k.ok("describe", "namespace", "doomed").contains("SomeResourcesRemain"));
    finalizeNamespace("doomed");
    awaitGone("namespace", "doomed");

    // serviceaccounts/token: a JWT for the account, with the asked audience and lifetime, that authenticates
    k.ok("create", "serviceaccount", "robot");
    // RBAC: the account may read what the checks below read.
    k.ok("create", "role", "robot-reader", "--verb=get,list", "--resource=pods,configmaps");
    k.ok("create", "rolebinding", "robot-reader", "--role=robot-reader", "--serviceaccount=default:robot");
    String token = k.ok("create", "token", "robot", "--audience=https://127.0.0.1:" + PORT, "--duration=15m").trim();
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertEquals("system:serviceaccount:default:robot", claims.getString("sub"));
    assertEquals("https://127.0.0.1:" + PORT, claims.getValue("aud") instanceof String s ? s
        : claims.getJsonArray("aud").getString(0));
    assertEquals(900, claims.getLong("exp") - claims.getLong("iat"));
    // A token for another audience is no credential for the API (kube's --api-audiences: its issuer); a TokenReview
    // for that audience accepts it, one for the API's does not.
    assertEquals(401, new ApiHttp("https://127.0.0.1:" + PORT, token).get("/api/v1/namespaces/default/pods").code());
    JsonObject forIt = api.send("POST", "/apis/authentication.k8s.io/v1/tokenreviews", new JsonObject()
        .put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview").put("spec", new JsonObject()
            .put("token", token).put("audiences", new JsonArray().add("https://127.0.0.1:" + PORT)))).body();
    assertEquals(true, forIt.getJsonObject("status").getBoolean("authenticated"), forIt.encode());
    assertEquals(new JsonArray().add("https://127.0.0.1:" + PORT), forIt.getJsonObject("status").getJsonArray("audiences"));
    JsonObject forApi = api.send("POST", "/apis/authentication.k8s.io/v1/tokenreviews", new JsonObject()
        .put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview").put("spec", new JsonObject()
            .put("token", token))).body();
    assertEquals(false, forApi.getJsonObject("status").getBoolean("authenticated"), forApi.encode());
    assertTrue(forApi.getJsonObject("status").getString("error").contains("is invalid for the target audiences"),
        forApi.encode());
    token = k.ok("create", "token", "robot").trim();
    assertEquals(200, new ApiHttp("https://127.0.0.1:" + PORT, token).get("/api/v1/namespaces/default/pods").code());
    Kubectl.Result tooShort = k.run("create", "token", "robot", "--duration=5m");
    assertTrue(tooShort.code() != 0 && tooShort.out().contains("may not specify a duration less than 10 minutes"),
        tooShort.out());
    Kubectl.Result noAccount = k.run("create", "token", "nobody");
    assertTrue(noAccount.code() != 0 && noAccount.out().contains("serviceaccounts \"nobody\" not found"),
        noAccount.out());

    // bound tokens: bound to a pod running as the account, they name it and stop working when it goes
    k.ok("run", "robot-pod", "--image=busybox", "--overrides={\"spec\":{\"serviceAccountName\":\"robot\"}}");
    String bound = k.ok("create", "token", "robot", "--bound-object-kind=Pod", "--bound-object-name=robot-pod")
        .trim();
    JsonObject boundClaims = new JsonObject(new String(Base64.getUrlDecoder().decode(bound.split("\\.")[1]),
        StandardCharsets.UTF_8)).getJsonObject("kubernetes.io");
    assertEquals(k.ok("get", "pod", "robot-pod", "-o", "jsonpath={.metadata.uid}"),
        boundClaims.getJsonObject("pod").getString("uid"), boundClaims.encode());
    ApiHttp asBound = new ApiHttp("https://127.0.0.1:" + PORT, bound);
    assertEquals(200, asBound.get("/api/v1/namespaces/default/configmaps").code());
    k.ok("run", "other-pod", "--image=busybox");
    Kubectl.Result otherAccount = k.run("create", "token", "robot", "--bound-object-kind=Pod",
        "--bound-object-name=other-pod");
    assertTrue(otherAccount.code() != 0 && otherAccount.out().contains("cannot bind token for serviceaccount "
        + "\"robot\" to pod running with different serviceaccount name."), otherAccount.out());
    k.ok("delete", "pod", "other-pod", "--wait=false");
    Kubectl.Result noPod = k.run("create", "token", "robot", "--bound-object-kind=Pod", "--bound-object-name=nope");
    assertTrue(noPod.code() != 0 && noPod.out().contains("pods \"nope\" not found"), noPod.out());
    k.ok("delete", "pod", "robot-pod", "--wait=false");
    awaitGone("pod", "robot-pod");
    assertEquals(401, asBound.get("/api/v1/namespaces/default/configmaps").code(), "the pod is gone");
    // an account's tokens end with the account
    assertEquals(200, new ApiHttp("https://127.0.0.1:" + PORT, token).get("/api/v1/namespaces/default/pods").code());
    k.ok("delete", "serviceaccount", "robot");
    assertEquals(401, new ApiHttp("https://127.0.0.1:" + PORT, token).get("/api/v1/namespaces/default/pods").code(),
        "the account is gone");
  }

  @Test
  @Order(3)
  void annotateReplaceClusterInfoAndApiVersions() throws Exception {
    assertEquals("Kubernetes control plane is running at https://127.0.0.1:" + PORT,
        k.ok("cluster-info").lines().findFirst().orElseThrow().replaceAll("\u001B\\[[0-9;]*m", ""));
    List<String> versions = k.ok("api-versions").lines().toList();
    for (String v : List.of("v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
        "coordination.k8s.io/v1", "discovery.k8s.io/v1", "scheduling.k8s.io/v1", "rbac.authorization.k8s.io/v1",
        "events.k8s.io/v1", "apiextensions.k8s.io/v1", "gaps.kvx.io/v1")) {
      assertTrue(versions.contains(v), v + " in " + versions);
    }
    assertEquals(versions.stream().sorted().toList(), versions, "kubectl api-versions prints them sorted");

    k.ok("create", "configmap", "settings", "--from-literal=mode=slow");
    assertEquals("configmap/settings annotated", k.ok("annotate", "configmap", "settings", "owner=me").trim());
    Kubectl.Result again = k.run("annotate", "configmap", "settings", "owner=you");
    assertNotEquals(0, again.code());
    assertTrue(again.out().contains("--overwrite is false but found the following declared annotation(s): 'owner' "
        + "already has a value (me)"), again.out());
    k.ok("annotate", "configmap", "settings", "owner=you", "--overwrite");
    assertEquals("you", k.ok("get", "configmap", "settings", "-o", "jsonpath={.metadata.annotations.owner}"));
    k.ok("annotate", "configmap", "settings", "owner-");
    assertEquals("", k.ok("get", "configmap", "settings", "-o", "jsonpath={.metadata.annotations.owner}"));
    // --resource-version: annotate only if the object has not changed since
    Kubectl.Result conflict = k.run("annotate", "configmap", "settings", "late=1", "--resource-version=1");
    assertTrue(conflict.code() != 0 && conflict.out().contains("Conflict"), conflict.out());

    // kubectl replace: the whole object; a stale resourceVersion is a 409; --force deletes and recreates
    JsonObject cm = new JsonObject(k.ok("get", "configmap", "settings", "-o", "json"));
    String uid = cm.getJsonObject("metadata").getString("uid");
    JsonObject staleCopy = cm.copy();
    cm.getJsonObject("data").put("mode", "fast");
    assertEquals("configmap/settings replaced", k.ok("replace", "-f", file("cm.json", cm.encode()).toString()).trim());
    assertEquals("fast", k.ok("get", "configmap", "settings", "-o", "jsonpath={.data.mode}"));
    staleCopy.getJsonObject("data").put("mode", "stale");
    Kubectl.Result staleReplace = k.run("replace", "-f", file("stale.json", staleCopy.encode()).toString());
    assertNotEquals(0, staleReplace.code());
    assertTrue(staleReplace.out().contains("Operation cannot be fulfilled on configmaps \"settings\": the object has "
        + "been modified; please apply your changes to the latest version and try again"), staleReplace.out());
    staleCopy.getJsonObject("metadata").remove("resourceVersion");
    Kubectl.Result forced = k.run("replace", "--force", "-f", file("forced.json", staleCopy.encode()).toString());
    assertEquals(0, forced.code(), forced.out());
    assertTrue(forced.out().contains("configmap \"settings\" deleted") && forced.out().contains("replaced"),
        forced.out());
    assertEquals("stale", k.ok("get", "configmap", "settings", "-o", "jsonpath={.data.mode}"));
    assertNotEquals(uid, k.ok("get", "configmap", "settings", "-o", "jsonpath={.metadata.uid}"));
    Kubectl.Result missing = k.run("replace", "-f", file("missing.json", new JsonObject().put("apiVersion", "v1")
        .put("kind", "ConfigMap").put("metadata", new JsonObject().put("name", "nowhere")).encode()).toString());
    assertTrue(missing.code() != 0 && missing.out().contains("configmaps \"nowhere\" not found"), missing.out());
  }

  @Test
  @Order(4)
  void bodiesOverThreeMebibytesGetA413Status() throws Exception {
    String big = "x".repeat(3 * 1024 * 1024);
    JsonObject cm = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", "huge")).put("data", new JsonObject().put("blob", big));
    ApiHttp.Reply r = api.send("POST", "/api/v1/namespaces/default/configmaps", cm);
    assertEquals(413, r.code(), r.body().encode().substring(0, Math.min(300, r.body().encode().length())));
    assertEquals("Status", r.body().getString("kind"));
    assertEquals("Failure", r.body().getString("status"));
    assertEquals("RequestEntityTooLarge", r.body().getString("reason"));
    assertEquals(413, r.body().getInteger("code"));
    assertEquals("Request entity too large: limit is 3145728", r.body().getString("message"));
    assertEquals(404, api.get("/api/v1/namespaces/default/configmaps/huge").code(), "nothing was stored");
    // the same through kubectl, for a create and for an update of an existing object
    Path file = file("huge.json", cm.encode());
    Kubectl.Result created = k.run("create", "-f", file.toString());
    assertNotEquals(0, created.code());
    assertTrue(created.out().contains("Error from server (RequestEntityTooLarge)")
        && created.out().contains("Request entity too large: limit is 3145728"), created.out());
    k.ok("create", "configmap", "huge");
    Kubectl.Result replaced = k.run("replace", "-f", file.toString());
    assertTrue(replaced.code() != 0 && replaced.out().contains("RequestEntityTooLarge"), replaced.out());
    assertEquals("", k.ok("get", "configmap", "huge", "-o", "jsonpath={.data}"));
  }

  @Test
  @Order(5)
  void requestMetricsByVerbResourceAndCodeAndOpenWatches() throws Exception {
    Map<String, String> cm = Map.of("resource", "configmaps", "group", "", "version", "v1");
    Map<String, Double> before = new HashMap<>();
    String[][] expected = {{"GET", "404", "3"}, {"GET", "200", "2"}, {"LIST", "200", "2"}, {"POST", "201", "1"},
        {"POST", "409", "1"}, {"PUT", "200", "1"}, {"PATCH", "200", "1"}, {"APPLY", "200", "1"},
        {"DELETE", "200", "1"}, {"PATCH", "415", "1"}};
    String m0 = metrics();
    for (String[] e : expected) {
      before.put(e[0] + e[1], sum(m0, "apiserver_request_total", with(cm, "verb", e[0], "code", e[1])));
    }
    double durationsBefore = sum(m0, "apiserver_request_duration_seconds_count", with(cm, "verb", "POST"));

    String base = "/api/v1/namespaces/default/configmaps";
    for (int i = 0; i < 3; i++) assertEquals(404, api.get(base + "/counted").code());
    JsonObject body = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", "counted")).put("data", new JsonObject().put("a", "1"));
    assertEquals(201, api.send("POST", base, body).code());
    assertEquals(409, api.send("POST", base, body).code());
    assertEquals(200, api.get(base + "/counted").code());
    assertEquals(200, api.get(base).code());
    assertEquals(200, api.get(base + "?labelSelector=x%3Dy").code());
    JsonObject stored = api.get(base + "/counted").body();
    stored.getJsonObject("data").put("a", "2");
    assertEquals(200, api.send("PUT", base + "/counted", stored).code());
    assertEquals(200, api.send("PATCH", base + "/counted", "application/merge-patch+json",
        "{\"data\":{\"b\":\"1\"}}").code());
    assertEquals(200, api.send("PATCH", base + "/counted?fieldManager=it", "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: counted}\ndata: {c: \"1\"}\n").code());
    assertEquals(415, api.send("PATCH", base + "/counted", "text/plain", "nonsense").code());
    assertEquals(200, api.send("DELETE", base + "/counted", null).code());

    String m1 = metrics();
    for (String[] e : expected) {
      double delta = sum(m1, "apiserver_request_total", with(cm, "verb", e[0], "code", e[1])) - before.get(e[0] + e[1]);
      assertEquals(Double.parseDouble(e[2]), delta, "apiserver_request_total verb=" + e[0] + " code=" + e[1]);
    }
    assertEquals(2, sum(m1, "apiserver_request_duration_seconds_count", with(cm, "verb", "POST"))
        - durationsBefore, "apiserver_request_duration_seconds by verb and resource");
    assertTrue(m1.contains("apiserver_request_duration_seconds_bucket{"), "a histogram with buckets");
    for (String process : List.of("process_cpu_usage", "process_uptime_seconds", "process_files_open_files",
        "jvm_memory_used_bytes", "jvm_threads_live_threads")) {
      assertTrue(m1.contains("\n" + process), "the process and its JVM: " + process);
    }
    assertTrue(sum(m1, "apiserver_request_total", Map.of("resource", "statefulsets", "subresource", "scale",
        "verb", "PATCH", "code", "200")) >= 1, "subresources are labelled: kubectl scale patched statefulsets/scale");

    // Open watches: a gauge per resource, up while they are open and back down when they end.
    Map<String, String> watching = with(cm, "verb", "WATCH");
    double idle = sum(m1, "apiserver_longrunning_requests", watching);
    HttpClient http = HttpClient.newBuilder().sslContext(KvxProcess.insecureClient().sslContext()).build();
    String token = Files.readString(kvx.home.resolve("admin.token")).trim();
    List<CompletableFuture<HttpResponse<String>>> open = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      open.add(http.sendAsync(HttpRequest.newBuilder(URI.create(api.base + base + "?watch=1&timeoutSeconds=4"))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()));
    }
    long deadline = System.currentTimeMillis() + 3_000;
    double during;
    do {
      during = sum(metrics(), "apiserver_longrunning_requests", watching);
    } while (during != idle + 2 && System.currentTimeMillis() < deadline);
    assertEquals(idle + 2, during, "two open watches of configmaps");
    for (CompletableFuture<HttpResponse<String>> w : open) assertEquals(200, w.get(20, TimeUnit.SECONDS).statusCode());
    deadline = System.currentTimeMillis() + 3_000;
    double after;
    do {
      after = sum(metrics(), "apiserver_longrunning_requests", watching);
    } while (after != idle && System.currentTimeMillis() < deadline);
    assertEquals(idle, after, "the watches ended");
    assertTrue(sum(metrics(), "apiserver_request_total", with(cm, "verb", "WATCH", "code", "200")) >= 2);
  }

  @Test
  @Order(6)
  void selectorsPagingBindingAndCollectionDeletes() throws Exception {
    k.ok("create", "configmap", "sel-a");
    k.ok("create", "configmap", "sel-b");
    k.ok("create", "configmap", "sel-c");
    k.ok("label", "configmap", "sel-a", "tier=web", "env=prod");
    k.ok("label", "configmap", "sel-b", "tier=db", "env=prod");
    k.ok("label", "configmap", "sel-c", "tier=web");
    Map<String, String> expected = new java.util.LinkedHashMap<>();
    expected.put("tier=web", "sel-a sel-c");
    expected.put("tier==web", "sel-a sel-c");
    expected.put("tier!=web", "sel-b");
    expected.put("tier in (web,db)", "sel-a sel-b sel-c");
    expected.put("tier notin (web)", "sel-b");
    expected.put("env", "sel-a sel-b");
    expected.put("!env", "sel-c");
    expected.put("env=prod,tier!=db", "sel-a");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String names = String.join(" ", k.ok("get", "configmaps", "-l", e.getKey(), "-o",
          "custom-columns=N:.metadata.name", "--no-headers").lines().filter(n -> n.startsWith("sel-")).toList());
      assertEquals(e.getValue(), names, "-l " + e.getKey());
    }
    // limit/continue: kubectl pages with --chunk-size and still lists everything
    assertEquals("sel-a sel-b sel-c", String.join(" ", k.ok("get", "configmaps", "--chunk-size=1", "-o",
        "custom-columns=N:.metadata.name", "--no-headers").lines().filter(n -> n.startsWith("sel-")).toList()));
    assertTrue(k.ok("get", "--raw", "/api/v1/namespaces/default/configmaps?limit=1").contains("\"continue\":"));
    // metadata only, as client-go's metadata client asks (its informers, the garbage collector's kind)
    String partialList = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
        + "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    ApiHttp.Reply metaList = api.get("/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dweb", partialList);
    assertEquals("PartialObjectMetadataList", metaList.body().getString("kind"), metaList.body().encode());
    JsonObject item = metaList.body().getJsonArray("items").getJsonObject(0);
    assertEquals("PartialObjectMetadata", item.getString("kind"));
    assertEquals("meta.k8s.io/v1", item.getString("apiVersion"));
    assertEquals("web", item.getJsonObject("metadata").getJsonObject("labels").getString("tier"));
    assertFalse(item.containsKey("data"), item.encode());
    ApiHttp.Reply metaOne = api.get("/api/v1/namespaces/default/configmaps/sel-a",
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
    assertEquals("PartialObjectMetadata", metaOne.body().getString("kind"), metaOne.body().encode());
    assertEquals("sel-a", metaOne.body().getJsonObject("metadata").getString("name"));
    assertEquals(406, api.get("/api/v1/namespaces/default/configmaps/sel-a", partialList).code());

    // pods/binding puts a pod on a node; field selectors on spec.nodeName and status.phase find it
    k.ok("run", "bound", "--image=busybox");
    k.ok("run", "unbound", "--image=busybox");
    Path binding = file("binding.json", "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":"
        + "\"bound\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"fake-node\"}}");
    k.ok("create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f", binding.toString());
    assertEquals("fake-node", k.ok("get", "pod", "bound", "-o", "jsonpath={.spec.nodeName}"));
    Kubectl.Result twice = k.run("create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f",
        binding.toString());
    assertTrue(twice.code() != 0 && twice.out().contains("Conflict"), "a pod is bound once: " + twice.out());
    assertEquals("pod/bound", k.ok("get", "pods", "--field-selector", "spec.nodeName=fake-node", "-o", "name").trim());
    assertEquals("pod/unbound", k.ok("get", "pods", "--field-selector", "spec.nodeName=,status.phase=Pending",
        "-o", "name").trim());
    assertEquals("pod/bound", k.ok("get", "pods", "--field-selector", "metadata.name!=unbound", "-o", "name").trim());
    Kubectl.Result badField = k.run("get", "pods", "--field-selector", "spec.nonsense=x");
    assertTrue(badField.code() != 0 && badField.out().contains("field label not supported: spec.nonsense"),
        badField.out());
    // a Binding created in the namespace (kubectl maps kind Binding to v1 bindings, as custom schedulers post it)
    k.ok("run", "bound-too", "--image=busybox");
    k.ok("create", "-f", file("binding-too.json", "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":"
        + "{\"name\":\"bound-too\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"other-node\"}}").toString());
    assertEquals("other-node", k.ok("get", "pod", "bound-too", "-o", "jsonpath={.spec.nodeName}"));
    assertEquals(405, api.get("/api/v1/namespaces/default/bindings").code());
    k.ok("delete", "pod", "bound-too", "--grace-period=0", "--force");

    // delete preconditions: a wrong uid is a 409 and the object stays
    ApiHttp.Reply wrongUid = api.send("DELETE", "/api/v1/namespaces/default/configmaps/sel-c",
        new JsonObject().put("apiVersion", "v1").put("kind", "DeleteOptions")
            .put("preconditions", new JsonObject().put("uid", "wrong")));
    assertEquals(409, wrongUid.code(), wrongUid.body().encode());
    assertTrue(wrongUid.body().getString("message").contains("Precondition failed: UID in precondition: wrong"),
        wrongUid.body().encode());
    // a server-side dry run deletes nothing, whether dryRun comes in the query or, as kubectl sends it, in the body
    assertTrue(k.ok("delete", "configmap", "sel-c", "--dry-run=server").contains("(server dry run)"));
    assertEquals("sel-c", k.ok("get", "configmap", "sel-c", "-o", "jsonpath={.metadata.name}"));
    k.ok("delete", "configmaps", "-l", "tier", "--dry-run=server");
    assertEquals("sel-a sel-b sel-c", String.join(" ", k.ok("get", "configmaps", "-o", "custom-columns=N:.metadata.name",
        "--no-headers").lines().filter(n -> n.startsWith("sel-")).toList()));
    ApiHttp.Reply dryEviction = api.send("POST", "/api/v1/namespaces/default/pods/unbound/eviction", new JsonObject()
        .put("apiVersion", "policy/v1").put("kind", "Eviction").put("metadata", new JsonObject().put("name", "unbound"))
        .put("deleteOptions", new JsonObject().put("dryRun", new io.vertx.core.json.JsonArray().add("All"))));
    assertEquals(201, dryEviction.code(), dryEviction.body().encode());
    assertEquals("", k.ok("get", "pod", "unbound", "-o", "jsonpath={.metadata.deletionTimestamp}"));
    // options kube validates: 422 naming the field, 400 for a body that contradicts the URL
    ApiHttp.Reply bogus = api.send("DELETE", "/api/v1/namespaces/default/configmaps/sel-c", new JsonObject()
        .put("apiVersion", "v1").put("kind", "DeleteOptions").put("propagationPolicy", "Bogus"));
    assertEquals(422, bogus.code(), bogus.body().encode());
    assertEquals("propagationPolicy", bogus.body().getJsonObject("details").getJsonArray("causes").getJsonObject(0)
        .getString("field"));
    ApiHttp.Reply both = api.send("DELETE", "/api/v1/namespaces/default/configmaps/sel-c", new JsonObject()
        .put("propagationPolicy", "Foreground").put("orphanDependents", false));
    assertEquals(422, both.code(), both.body().encode());
    ApiHttp.Reply otherName = api.send("POST", "/api/v1/namespaces/default/pods/unbound/eviction", new JsonObject()
        .put("apiVersion", "policy/v1").put("kind", "Eviction").put("metadata", new JsonObject().put("name", "bound")));
    assertEquals(400, otherName.code(), otherName.body().encode());
    assertEquals("name in URL does not match name in Eviction object", otherName.body().getString("message"));
    ApiHttp.Reply tail = api.get("/api/v1/namespaces/default/pods/bound/log?tailLines=-1");
    assertEquals(422, tail.code(), tail.body().encode());
    ApiHttp.Reply untyped = api.send("PATCH", "/api/v1/namespaces/default/configmaps/sel-c?fieldManager=it",
        "application/apply-patch+yaml", "{\"metadata\":{\"name\":\"sel-c\"},\"data\":{\"a\":\"b\"}}");
    assertEquals(400, untyped.code(), untyped.body().encode());
    Kubectl.Result renamed = k.run("patch", "configmap", "sel-c", "--type=merge", "-p", "{\"metadata\":{\"name\":\"other\"}}");
    assertTrue(renamed.code() != 0 && renamed.out().contains("does not match the name on the URL"), renamed.out());
    // marked for deletion as kube marks it: a timestamp, a grace period of 0 and a new generation; no new finalizers
    k.ok("create", "deployment", "held", "--image=busybox");
    k.ok("patch", "deployment", "held", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":[\"example.com/hold\"]}}");
    long generation = Long.parseLong(k.ok("get", "deployment", "held", "-o", "jsonpath={.metadata.generation}"));
    k.ok("delete", "deployment", "held", "--wait=false");
    assertEquals("0 " + (generation + 1), k.ok("get", "deployment", "held", "-o",
        "jsonpath={.metadata.deletionGracePeriodSeconds} {.metadata.generation}"));
    Kubectl.Result more = k.run("patch", "deployment", "held", "--type=json", "-p",
        "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":\"example.com/more\"}]");
    assertTrue(more.code() != 0 && more.out().contains("metadata.finalizers: Forbidden: no new finalizers can be added "
        + "if the object is being deleted, found new finalizers []string{\"example.com/more\"}"), more.out());
    k.ok("patch", "deployment", "held", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
    awaitGone("deployment", "held");
    // deletecollection with a label selector takes exactly the matching objects
    k.ok("delete", "--raw", "/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dweb");
    assertEquals("sel-b", String.join(" ", k.ok("get", "configmaps", "-o", "custom-columns=N:.metadata.name",
        "--no-headers").lines().filter(n -> n.startsWith("sel-")).toList()));
  }

  @Test
  @Order(7)
  void versionsServedAsViewsOfOneStoredForm() throws Exception {
    // events.k8s.io/v1 and core/v1 are one store: an events/v1 recorder's event shows in kubectl describe
    k.ok("create", "configmap", "regarded");
    String uid = k.ok("get", "configmap", "regarded", "-o", "jsonpath={.metadata.uid}").trim();
    k.ok("create", "-f", file("ev1.yaml", "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: regarded.1}\n"
        + "eventTime: \"2026-01-01T00:00:00.000000Z\"\nreportingController: example.com/ctl\nreportingInstance: ctl-0\n"
        + "action: Sync\nreason: Synced\ntype: Normal\nnote: seen through core\n"
        + "regarding: {kind: ConfigMap, name: regarded, namespace: default, uid: " + uid + ", apiVersion: v1}\n").toString());
    JsonObject core = new JsonObject(k.ok("get", "events", "regarded.1", "-o", "json"));
    assertEquals("v1", core.getString("apiVersion"));
    assertEquals("seen through core", core.getString("message"));
    assertEquals("regarded", core.getJsonObject("involvedObject").getString("name"));
    assertTrue(k.ok("describe", "configmap", "regarded").contains("seen through core"));
    k.ok("patch", "events", "regarded.1", "--type=merge", "-p", "{\"message\":\"patched through core\"}");
    assertEquals("patched through core", k.ok("get", "events.events.k8s.io", "regarded.1", "-o", "jsonpath={.note}"));
    Kubectl.Result invalid = k.run("create", "-f", file("ev2.yaml", "apiVersion: events.k8s.io/v1\nkind: Event\n"
        + "metadata: {name: bad.1}\nreason: X\n").toString());
    assertTrue(invalid.out().contains("eventTime: Required value"), invalid.out());

    // autoscaling/v1 is a view of the stored v2 HorizontalPodAutoscaler
    k.ok("create", "-f", file("hpa1.yaml", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n"
        + "metadata: {name: old-style}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d},"
        + " maxReplicas: 4, targetCPUUtilizationPercentage: 65}\n").toString());
    JsonObject v2 = new JsonObject(k.ok("get", "horizontalpodautoscalers.v2.autoscaling", "old-style", "-o", "json"));
    assertEquals(65, v2.getJsonObject("spec").getJsonArray("metrics").getJsonObject(0).getJsonObject("resource")
        .getJsonObject("target").getInteger("averageUtilization"));
    k.ok("patch", "horizontalpodautoscalers.v1.autoscaling", "old-style", "--type=merge", "-p",
        "{\"spec\":{\"targetCPUUtilizationPercentage\":70}}");
    assertEquals("70", k.ok("get", "horizontalpodautoscalers.v1.autoscaling", "old-style", "-o",
        "jsonpath={.spec.targetCPUUtilizationPercentage}"));
    assertTrue(k.ok("get", "hpa", "old-style").contains("cpu: <unknown>/70%"));

    // a field the kind does not have is dropped with kube's warning when no fieldValidation is asked for
    String out = k.ok("patch", "configmap", "regarded", "--type=merge", "-p", "{\"bogus\":1}");
    assertTrue(out.contains("unknown field \"bogus\""), out);
    assertFalse(k.ok("get", "configmap", "regarded", "-o", "json").contains("bogus"));
  }

  /** The gizmos definition of {@link #aDeletedDefinitionWaitsForItsObjects}, its root schema with {@code more}. */
  private static void applyGizmos(String more) throws Exception {
    k.ok("apply", "-f", file("gizmos-crd.yaml", """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: gizmos.fin.kvx.io}
        spec:
          group: fin.kvx.io
          scope: Namespaced
          names: {plural: gizmos, singular: gizmo, kind: Gizmo}
          versions:
          - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object,
              x-kubernetes-preserve-unknown-fields: true%s}}}
        """.formatted(more)).toString());
  }

  /**
   * A deleted CustomResourceDefinition goes as kube's does: Terminating while its objects are deleted (each honouring
   * its finalizers), no new objects meanwhile, gone once the last object is.
   */
  @Test
  @Order(9)
  void aDeletedDefinitionWaitsForItsObjects() throws Exception {
    applyGizmos("");
    k.await(Duration.ofSeconds(20), out -> out.contains("gizmos"), "api-resources", "--api-group=fin.kvx.io");
    assertEquals("customresourcecleanup.apiextensions.k8s.io",
        k.ok("get", "crd", "gizmos.fin.kvx.io", "-o", "jsonpath={.metadata.finalizers[0]}"));
    k.ok("apply", "-f", file("gizmos.yaml", """
        apiVersion: fin.kvx.io/v1
        kind: Gizmo
        metadata: {name: held, finalizers: [example.com/hold]}
        ---
        apiVersion: fin.kvx.io/v1
        kind: Gizmo
        metadata: {name: free}
        """).toString());
    // a default added to the schema later is filled in when older objects are read, as kube does
    applyGizmos(", properties: {spec: {type: object, default: {}, properties: {color: {type: string, default: red}}}}");
    k.await(Duration.ofSeconds(10), out -> out.equals("red"), "get", "gizmo", "free", "-o", "jsonpath={.spec.color}");
    k.ok("delete", "crd", "gizmos.fin.kvx.io", "--wait=false");
    awaitGone("gizmo", "free");
    assertEquals("True InstanceDeletionInProgress", k.ok("get", "crd", "gizmos.fin.kvx.io", "-o",
        "jsonpath={.status.conditions[?(@.type==\"Terminating\")].status} "
            + "{.status.conditions[?(@.type==\"Terminating\")].reason}"));
    assertFalse(k.ok("get", "gizmo", "held", "-o", "jsonpath={.metadata.deletionTimestamp}").isEmpty());
    Kubectl.Result late = k.run("apply", "-f", file("late.yaml", """
        apiVersion: fin.kvx.io/v1
        kind: Gizmo
        metadata: {name: late}
        """).toString());
    assertTrue(late.code() != 0 && late.out().contains("create not allowed while custom resource definition is "
        + "terminating"), late.out());
    k.ok("patch", "gizmo", "held", "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
    awaitGone("crd", "gizmos.fin.kvx.io");
  }

  /**
   * HTTP/2 as kube-apiserver offers it: kubectl (Go's transport) negotiates h2 by ALPN, and on one h2
   * connection a watch keeps delivering while the creates it reports travel as other streams; a watch
   * whose stream the client cancels ends on the server (the open-watch gauge falls back) though the
   * connection stays open.
   */
  @Test
  @Order(8)
  void kubectlNegotiatesHttp2AndAWatchDeliversOnAMultiplexedConnection() throws Exception {
    HttpClient h2 = HttpClient.newBuilder().sslContext(KvxProcess.insecureClient().sslContext())
        .version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(3)).build();
    String token = Files.readString(kvx.home.resolve("admin.token")).trim();
    String base = api.base + "/api/v1/namespaces/default/configmaps";
    Map<String, String> watching = Map.of("resource", "configmaps", "group", "", "version", "v1", "verb", "WATCH");
    double idle = sum(metrics(), "apiserver_longrunning_requests", watching);

    // Own threads: the common pool may have one thread on 2 cores, which kubectl's wait would hold.
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
    // kubectl's watch over h2 (Go logs its HTTP/2 client connections with GODEBUG=http2debug=1).
    CompletableFuture<Kubectl.Result> kubectlWatch = CompletableFuture.supplyAsync(() -> {
      try {
        return k.run(Map.of("GODEBUG", "http2debug=1"), "get", "configmaps", "-l", "h2=watch", "--watch-only",
            "-o", "name", "--request-timeout=20s");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    }, threads);
    HttpResponse<java.io.InputStream> watch = h2.send(HttpRequest.newBuilder(URI.create(base
        + "?watch=1&labelSelector=h2%3Dwatch")).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(HttpClient.Version.HTTP_2, watch.version(), "the server offers h2 by ALPN");
    assertEquals(200, watch.statusCode());
    java.io.BufferedReader events = new java.io.BufferedReader(new java.io.InputStreamReader(watch.body(),
        StandardCharsets.UTF_8));
    long deadline = System.currentTimeMillis() + 10_000;
    while (sum(metrics(), "apiserver_longrunning_requests", watching) < idle + 2
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(idle + 2, sum(metrics(), "apiserver_longrunning_requests", watching), "both watches are open");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      JsonObject cm = new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap").put("metadata",
          new JsonObject().put("name", "h2-" + i).put("labels", new JsonObject().put("h2", "watch")));
      HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(cm.encode())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, r.statusCode(), r.body());
      assertEquals(HttpClient.Version.HTTP_2, r.version());
      created.add("h2-" + i);
    }
    // The JDK client multiplexes every request to one origin on its one h2 connection.
    for (String name : created) {
      String line = CompletableFuture.supplyAsync(() -> {
        try {
          return events.readLine();
        } catch (java.io.IOException e) {
          throw new RuntimeException(e);
        }
      }, threads).get(10, TimeUnit.SECONDS);
      JsonObject event = new JsonObject(line);
      assertEquals("ADDED", event.getString("type"), line);
      assertEquals(name, event.getJsonObject("object").getJsonObject("metadata").getString("name"));
    }
    // Cancelling the stream (RST_STREAM) ends the server's watch; the connection goes on serving.
    watch.body().close();
    deadline = System.currentTimeMillis() + 5_000;
    double open;
    do {
      open = sum(metrics(), "apiserver_longrunning_requests", watching);
    } while (open > idle + 1 && System.currentTimeMillis() < deadline && sleep(100));
    assertTrue(open <= idle + 1, "the cancelled h2 watch ended (open watches: " + open + ", idle " + idle + ")");
    HttpResponse<String> list = h2.send(HttpRequest.newBuilder(URI.create(base + "?labelSelector=h2%3Dwatch"))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, list.version());
    assertEquals(3, new JsonObject(list.body()).getJsonArray("items").size());
    // After streams that did not accept gzip, one that does gets a body its content-encoding describes
    // (Vert.x 5.0.7 sent "gzip" over plain bytes here).
    HttpResponse<byte[]> openapi = h2.send(HttpRequest.newBuilder(URI.create(api.base + "/openapi/v2"))
        .header("Authorization", "Bearer " + token).header("Accept-Encoding", "gzip").build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(HttpClient.Version.HTTP_2, openapi.version());
    byte[] doc = openapi.body();
    if (openapi.headers().firstValue("content-encoding").orElse("").equals("gzip")) {
      doc = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(doc)).readAllBytes();
    }
    assertTrue(new String(doc, StandardCharsets.UTF_8).contains("\"swagger\""), "the OpenAPI v2 document");

    Kubectl.Result kw = kubectlWatch.get(30, TimeUnit.SECONDS);
    threads.shutdownNow();
    assertTrue(kw.out().contains("http2: Transport creating client conn"), "kubectl negotiated h2: " + kw.out());
    for (String name : created) assertTrue(kw.out().contains("configmap/" + name), "kubectl's h2 watch saw " + name);
  }

  private static boolean sleep(long ms) throws InterruptedException {
    Thread.sleep(ms);
    return true;
  }

  private static Map<String, String> with(Map<String, String> base, String... kv) {
    Map<String, String> m = new HashMap<>(base);
    for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }

  private static String metrics() throws Exception {
    HttpClient http = KvxProcess.insecureClient();
    String token = Files.readString(kvx.home.resolve("admin.token")).trim();
    return http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + PORT + "/metrics"))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The sum of a Prometheus text-format metric over the series whose labels include the given ones. */
  static double sum(String text, String metric, Map<String, String> labels) {
    double total = 0;
    for (String line : text.lines().toList()) {
      if (!line.startsWith(metric + "{")) continue;
      int close = line.lastIndexOf('}');
      Map<String, String> got = new HashMap<>();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\w+)=\"([^\"]*)\"")
          .matcher(line.substring(metric.length() + 1, close));
      while (m.find()) got.put(m.group(1), m.group(2));
      if (got.entrySet().containsAll(labels.entrySet())) total += Double.parseDouble(line.substring(close + 1).trim());
    }
    return total;
  }

  @Test
  @Order(50)
  void anIngressOrNetworkPolicyWithAMistakeIsRefusedNamingTheField() throws Exception {
    Kubectl.Result ingress = k.run("apply", "-f", file("bad-ingress.yaml", """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: bad, namespace: default}
        spec:
          rules:
          - host: shop.example.com
            http:
              paths:
              - path: /
                backend: {service: {name: web, port: {number: 80}}}
        """).toString());
    assertTrue(ingress.code() != 0 && ingress.out().contains("The Ingress \"bad\" is invalid: "
        + "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"), ingress.out());
    Kubectl.Result policy = k.run("apply", "-f", file("bad-netpol.yaml", """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: bad, namespace: default}
        spec:
          podSelector: {}
          ingress:
          - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.1.0/24]}}]
        """).toString());
    assertTrue(policy.code() != 0 && policy.out().contains("spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "
        + "\"192.168.1.0/24\": must be a strict subset of `cidr`"), policy.out());
    assertTrue(k.run("get", "ingress,networkpolicy", "bad").code() != 0, "nothing stored");
  }
}
