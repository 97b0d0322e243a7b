package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Defaulting as kube-apiserver applies it on create and update. Pure. */
public final class Defaults {

  private Defaults() {
  }

  public static void apply(ResourceType type, JsonObject obj) {
    withoutAdmission(type, obj);
    if (type.kind().equals("Pod") && !type.isCustom()) podAdmission(obj);
  }

  /**
   * The defaults alone, without what admission adds to a pod ({@link #podAdmission}). A create runs these, then
   * the field manager, then admission, as kube-apiserver does: the fields admission adds (spec.priority, the
   * ServiceAccount, default tolerations, the token volume) belong to no manager.
   */
  public static void withoutAdmission(ResourceType type, JsonObject obj) {
    obj.put("apiVersion", type.apiVersion()).put("kind", type.kind());
    if (type.isCustom() && type.schema() != null) schemaDefaults(type.schema(), obj, true);
    switch (type.kind()) {
      case "Pod" -> pod(obj);
      case "Namespace" -> {
        JsonObject spec = obj.getJsonObject("spec", new JsonObject());
        // Only a new namespace gets the finalizer: the namespace controller removes it when it is emptied.
        boolean isNew = !Meta.meta(obj).containsKey("creationTimestamp");
        if (isNew && !spec.containsKey("finalizers")) spec.put("finalizers", new JsonArray().add("kubernetes"));
        obj.put("spec", spec);
        JsonObject status = obj.getJsonObject("status", new JsonObject());
        if (!status.containsKey("phase")) status.put("phase", "Active");
        obj.put("status", status);
        JsonObject labels = Meta.meta(obj).getJsonObject("labels", new JsonObject());
        labels.put("kubernetes.io/metadata.name", Meta.name(obj));
        Meta.meta(obj).put("labels", labels);
      }
      case "LimitRange" -> Quotas.defaultLimitRange(obj);
      case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) {
          AdmissionConfigs.defaultWebhooks(obj, type.kind().startsWith("Mutating"));
        }
      }
      case "ValidatingAdmissionPolicy" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) AdmissionConfigs.defaultPolicy(obj);
      }
      case "ValidatingAdmissionPolicyBinding" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) AdmissionConfigs.defaultBinding(obj);
      }
      case "Secret" -> {
        if (!type.isCustom()) secret(obj);
      }
      case "NetworkPolicy" -> {
        if (!type.isCustom()) networkPolicy(obj.getJsonObject("spec", new JsonObject()));
      }
      case "PersistentVolume", "PersistentVolumeClaim" -> {
        // as Kubernetes defaults them: a filesystem volume; a volume is retained when released
        JsonObject spec = obj.getJsonObject("spec", new JsonObject());
        putIfAbsent(spec, "volumeMode", "Filesystem");
        if (type.kind().equals("PersistentVolume")) putIfAbsent(spec, "persistentVolumeReclaimPolicy", "Retain");
        obj.put("spec", spec);
      }
      case "Node" -> {
        // as Kubernetes' node status defaulting: a node that reports no allocatable has its capacity allocatable
        JsonObject status = obj.getJsonObject("status");
        if (status != null && status.getValue("capacity") instanceof JsonObject capacity
            && !status.containsKey("allocatable")) {
          status.put("allocatable", capacity.copy());
        }
      }
      case "Deployment" -> {
        JsonObject spec = workload(obj);
        putIfAbsent(spec, "revisionHistoryLimit", 10);
        putIfAbsent(spec, "progressDeadlineSeconds", 600);
        JsonObject strategy = spec.getJsonObject("strategy", new JsonObject());
        putIfAbsent(strategy, "type", "RollingUpdate");
        if (strategy.getString("type").equals("RollingUpdate")) {
          JsonObject ru = strategy.getJsonObject("rollingUpdate", new JsonObject());
          putIfAbsent(ru, "maxUnavailable", "25%");
          putIfAbsent(ru, "maxSurge", "25%");
          strategy.put("rollingUpdate", ru);
        }
        spec.put("strategy", strategy);
      }
      case "ReplicaSet", "ReplicationController" -> workload(obj);
      case "StatefulSet" -> {
        JsonObject spec = workload(obj);
        putIfAbsent(spec, "podManagementPolicy", "OrderedReady");
        putIfAbsent(spec, "revisionHistoryLimit", 10);
        putIfAbsent(spec, "updateStrategy", new JsonObject().put("type", "RollingUpdate")
            .put("rollingUpdate", new JsonObject().put("partition", 0)));
      }
      case "DaemonSet" -> {
        JsonObject spec = workload(obj);
        spec.remove("replicas");
        putIfAbsent(spec, "revisionHistoryLimit", 10);
        putIfAbsent(spec, "updateStrategy", new JsonObject().put("type", "RollingUpdate")
            .put("rollingUpdate", new JsonObject().put("maxUnavailable", 1).put("maxSurge", 0)));
      }
      case "Job" -> job(obj.getJsonObject("spec", new JsonObject()));
      case "CronJob" -> {
        JsonObject spec = obj.getJsonObject("spec", new JsonObject());
        putIfAbsent(spec, "concurrencyPolicy", "Allow");
        putIfAbsent(spec, "suspend", false);
        putIfAbsent(spec, "successfulJobsHistoryLimit", 3);
        putIfAbsent(spec, "failedJobsHistoryLimit", 1);
        JsonObject jt = spec.getJsonObject("jobTemplate", new JsonObject());
        JsonObject jspec = jt.getJsonObject("spec", new JsonObject());
        job(jspec);
        jt.put("spec", jspec);
        spec.put("jobTemplate", jt);
        obj.put("spec", spec);
      }
      case "Service" -> service(obj);
      default -> { }
    }
  }

  /** Shared by the pod-owning workloads: replicas 1 and pod defaults on the template. */
  /**
   * As kube's conversion of a v1 Secret: stringData is write-only, its values (UTF-8) are base64'd into data, where
   * they win over the same keys, and it is never stored; the type defaults to Opaque.
   */
  private static void secret(JsonObject obj) {
    if (obj.remove("stringData") instanceof JsonObject stringData && !stringData.isEmpty()) {
      JsonObject data = obj.getValue("data") instanceof JsonObject d ? d : new JsonObject();
      for (var e : stringData) {
        data.put(e.getKey(), java.util.Base64.getEncoder().encodeToString(
            String.valueOf(e.getValue()).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
      obj.put("data", data);
    }
    putIfAbsent(obj, "type", "Opaque");
  }

  /**
   * As kube defaults a NetworkPolicy: policyTypes Ingress, and Egress when it has egress rules; ports' protocol TCP.
   */
  private static void networkPolicy(JsonObject spec) {
    if (!spec.containsKey("policyTypes")) {
      JsonArray types = new JsonArray().add("Ingress");
      if (spec.getValue("egress") instanceof JsonArray egress && !egress.isEmpty()) types.add("Egress");
      spec.put("policyTypes", types);
    }
    for (String direction : List.of("ingress", "egress")) {
      if (!(spec.getValue(direction) instanceof JsonArray rules)) continue;
      for (Object r : rules) {
        if (!(r instanceof JsonObject rule) || !(rule.getValue("ports") instanceof JsonArray ports)) continue;
        for (Object p : ports) {
          if (p instanceof JsonObject port) putIfAbsent(port, "protocol", "TCP");
        }
      }
    }
  }

  private static JsonObject workload(JsonObject obj) {
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    obj.put("spec", spec);
    putIfAbsent(spec, "replicas", 1);
    putIfAbsent(spec, "minReadySeconds", 0);
    if (obj.getString("kind").equals("ReplicationController")) {
      spec.remove("minReadySeconds");
      JsonObject template = spec.getJsonObject("template");
      // An RC without a selector selects its template's labels.
      if (!spec.containsKey("selector") && template != null) {
        JsonObject labels = template.getJsonObject("metadata", new JsonObject()).getJsonObject("labels");
        if (labels != null) spec.put("selector", labels.copy());
      }
    }
    podTemplate(spec.getJsonObject("template"));
    return spec;
  }

  private static void job(JsonObject spec) {
    if (!spec.containsKey("completions") && !spec.containsKey("parallelism")) spec.put("completions", 1);
    // With a limit per index the Job-wide limit is effectively off, as kube defaults it.
    putIfAbsent(spec, "backoffLimit", spec.getValue("backoffLimitPerIndex") != null ? Integer.MAX_VALUE : 6);
    putIfAbsent(spec, "completionMode", "NonIndexed");
    putIfAbsent(spec, "suspend", false);
    putIfAbsent(spec, "podReplacementPolicy", spec.getValue("podFailurePolicy") != null ? "Failed" : "TerminatingOrFailed");
    putIfAbsent(spec, "parallelism", 1);
    JsonObject template = spec.getJsonObject("template");
    if (template == null) return;
    JsonObject ps = template.getJsonObject("spec", new JsonObject());
    boolean hadPolicy = ps.containsKey("restartPolicy");
    podTemplate(template);
    // Jobs get no default restart policy: validation asks for OnFailure or Never, as Kubernetes does.
    if (!hadPolicy) template.getJsonObject("spec").remove("restartPolicy");
  }

  private static void podTemplate(JsonObject template) {
    if (template == null) return;
    JsonObject spec = template.getJsonObject("spec", new JsonObject());
    podSpec(spec);
    template.put("spec", spec);
    template.put("metadata", template.getJsonObject("metadata", new JsonObject()));
  }

  private static void service(JsonObject svc) {
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    svc.put("spec", spec);
    putIfAbsent(spec, "type", "ClusterIP");
    if (!spec.getString("type").equals("ExternalName")) {
      putIfAbsent(spec, "sessionAffinity", "None");
      putIfAbsent(spec, "internalTrafficPolicy", "Cluster");
      putIfAbsent(spec, "ipFamilies", new JsonArray().add("IPv4"));
      putIfAbsent(spec, "ipFamilyPolicy", "SingleStack");
    }
    if (spec.getString("type").equals("NodePort") || spec.getString("type").equals("LoadBalancer")) {
      putIfAbsent(spec, "externalTrafficPolicy", "Cluster");
    }
    if ("ClientIP".equals(spec.getString("sessionAffinity"))) {
      JsonObject cfg = spec.getJsonObject("sessionAffinityConfig", new JsonObject());
      JsonObject clientIp = cfg.getJsonObject("clientIP", new JsonObject());
      putIfAbsent(clientIp, "timeoutSeconds", 10800);
      cfg.put("clientIP", clientIp);
      spec.put("sessionAffinityConfig", cfg);
    }
    JsonArray ports = spec.getJsonArray("ports");
    if (ports != null) {
      for (int i = 0; i < ports.size(); i++) {
        if (!(ports.getValue(i) instanceof JsonObject port)) continue;
        putIfAbsent(port, "protocol", "TCP");
        if (!port.containsKey("targetPort") && port.getValue("port") != null) port.put("targetPort", port.getValue("port"));
      }
    }
    JsonObject status = svc.getJsonObject("status", new JsonObject());
    putIfAbsent(status, "loadBalancer", new JsonObject());
    svc.put("status", status);
  }

  private static void pod(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    podSpec(spec);
    // A pod's (not a template's) containers with limits but no requests request their limits.
    for (String list : new String[] {"containers", "initContainers"}) {
      if (!(spec.getValue(list) instanceof JsonArray cs)) continue;
      for (Object o : cs) {
        if (!(o instanceof JsonObject c) || !(c.getValue("resources") instanceof JsonObject res)
            || !(res.getValue("limits") instanceof JsonObject limits)) continue;
        JsonObject requests = res.getValue("requests") instanceof JsonObject r ? r : new JsonObject();
        limits.forEach(e -> {
          if (!requests.containsKey(e.getKey())) requests.put(e.getKey(), e.getValue());
        });
        if (!requests.isEmpty()) res.put("requests", requests);
      }
    }
    pod.put("spec", spec);
    JsonObject status = pod.getJsonObject("status", new JsonObject());
    putIfAbsent(status, "phase", "Pending");
    putIfAbsent(status, "qosClass", qosClass(spec));
    pod.put("status", status);
  }

  /**
   * Admission, not defaulting, in Kubernetes: pods get these, pod templates do not (a Deployment's template and its
   * ReplicaSets' stay as the user wrote them). preemptionPolicy is left to priority admission, which takes it from
   * the pod's PriorityClass. The token volume is {@link #mountServiceAccountToken}, on create only.
   */
  public static void podAdmission(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    putIfAbsent(spec, "priority", 0);
    // The ServiceAccount admission plugin: a pod that names no account runs as the namespace's "default".
    if (spec.getString("serviceAccountName", "").isEmpty()) spec.put("serviceAccountName", "default");
    spec.put("serviceAccount", spec.getString("serviceAccountName"));
    // The DefaultTolerationSeconds admission plugin: a toleration for each of the two taints the pod
    // does not tolerate already.
    JsonArray tolerations = spec.getValue("tolerations") instanceof JsonArray a ? a : new JsonArray();
    for (String key : new String[] {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
      if (!toleratesNoExecute(tolerations, key)) tolerations.add(toleration(key));
    }
    if (!tolerations.isEmpty()) spec.put("tolerations", tolerations);
    pod.put("spec", spec);
  }

  /** Where Kubernetes mounts a pod's ServiceAccount token, CA and namespace. */
  public static final String SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

  /**
   * The ServiceAccount admission plugin's token volume, on a pod being created: unless the pod opts out
   * (automountServiceAccountToken: false), every container and init container without a mount of its own
   * at {@link #SERVICE_ACCOUNT_MOUNT} mounts there, read-only, a projected volume "kube-api-access-SUFFIX"
   * (a pod that already has a kube-api-access-* volume keeps it) holding a bound token ("token",
   * 3607 s), the cluster CA ("ca.crt" from kube-root-ca.crt) and the namespace. Ephemeral containers get none.
   */
  public static void mountServiceAccountToken(JsonObject pod, String suffix) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    if (!spec.getBoolean("automountServiceAccountToken", true)) return;
    JsonArray volumes = spec.getValue("volumes") instanceof JsonArray a ? a : new JsonArray();
    String volumeName = null;
    for (Object o : volumes) {
      if (o instanceof JsonObject v && v.getString("name", "").startsWith("kube-api-access-")) {
        volumeName = v.getString("name");
        break;
      }
    }
    boolean hasVolume = volumeName != null;
    if (!hasVolume) volumeName = "kube-api-access-" + suffix;
    boolean needed = false;
    for (String list : new String[] {"initContainers", "containers"}) {
      if (!(spec.getValue(list) instanceof JsonArray cs)) continue;
      for (Object o : cs) {
        if (!(o instanceof JsonObject c)) continue;
        JsonArray mounts = c.getValue("volumeMounts") instanceof JsonArray m ? m : new JsonArray();
        boolean own = mounts.stream().anyMatch(m -> m instanceof JsonObject vm
            && SERVICE_ACCOUNT_MOUNT.equals(vm.getString("mountPath")));
        if (own) continue;
        mounts.add(new JsonObject().put("name", volumeName).put("readOnly", true)
            .put("mountPath", SERVICE_ACCOUNT_MOUNT));
        c.put("volumeMounts", mounts);
        needed = true;
      }
    }
    if (hasVolume || !needed) return;
    JsonArray sources = new JsonArray()
        .add(new JsonObject().put("serviceAccountToken", new JsonObject().put("expirationSeconds", 3607)
            .put("path", "token")))
        .add(new JsonObject().put("configMap", new JsonObject().put("name", "kube-root-ca.crt")
            .put("items", new JsonArray().add(new JsonObject().put("key", "ca.crt").put("path", "ca.crt")))))
        .add(new JsonObject().put("downwardAPI", new JsonObject().put("items", new JsonArray()
            .add(new JsonObject().put("path", "namespace").put("fieldRef", new JsonObject()
                .put("apiVersion", "v1").put("fieldPath", "metadata.namespace"))))));
    volumes.add(new JsonObject().put("name", volumeName)
        .put("projected", new JsonObject().put("defaultMode", 420).put("sources", sources)));
    spec.put("volumes", volumes);
  }

  private static void podSpec(JsonObject spec) {
    putIfAbsent(spec, "restartPolicy", "Always");
    putIfAbsent(spec, "dnsPolicy", "ClusterFirst");
    putIfAbsent(spec, "schedulerName", "default-scheduler");
    putIfAbsent(spec, "terminationGracePeriodSeconds", 30);
    putIfAbsent(spec, "securityContext", new JsonObject());
    putIfAbsent(spec, "enableServiceLinks", true);
    // serviceAccount is the deprecated alias of serviceAccountName: Kubernetes reads it when the name is
    // missing and always writes it back equal to the name.
    String account = spec.getString("serviceAccountName", "");
    if (account.isEmpty() && spec.getValue("serviceAccount") instanceof String old && !old.isEmpty()) {
      spec.put("serviceAccountName", old);
    } else if (!account.isEmpty()) {
      spec.put("serviceAccount", account);
    }
    for (String list : new String[] {"initContainers", "containers", "ephemeralContainers"}) {
      JsonArray cs = spec.getJsonArray(list);
      if (cs == null) continue;
      for (int i = 0; i < cs.size(); i++) {
        if (cs.getValue(i) instanceof JsonObject c) container(c);
      }
    }
  }

  private static boolean toleratesNoExecute(JsonArray tolerations, String key) {
    for (Object o : tolerations) {
      if (!(o instanceof JsonObject t)) continue;
      String effect = t.getString("effect", "");
      if (!effect.isEmpty() && !effect.equals("NoExecute")) continue;
      String k = t.getString("key", "");
      if (k.isEmpty() && "Exists".equals(t.getString("operator")) || k.equals(key)) return true;
    }
    return false;
  }

  private static JsonObject toleration(String key) {
    return new JsonObject().put("key", key).put("operator", "Exists").put("effect", "NoExecute")
        .put("tolerationSeconds", 300);
  }

  private static void container(JsonObject c) {
    String image = c.getString("image", "");
    String lastSegment = image.substring(image.lastIndexOf('/') + 1);
    boolean latest = !lastSegment.contains(":") || lastSegment.endsWith(":latest");
    putIfAbsent(c, "imagePullPolicy", latest && !image.contains("@") ? "Always" : "IfNotPresent");
    putIfAbsent(c, "terminationMessagePath", "/dev/termination-log");
    putIfAbsent(c, "terminationMessagePolicy", "File");
    putIfAbsent(c, "resources", new JsonObject());
    JsonArray ports = c.getJsonArray("ports");
    if (ports != null) {
      for (int i = 0; i < ports.size(); i++) putIfAbsent(ports.getJsonObject(i), "protocol", "TCP");
    }
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      if (!(c.getValue(probe) instanceof JsonObject p)) continue;
      // kube's probe defaults: a second to answer, every 10 s, one success, three failures.
      putIfAbsent(p, "timeoutSeconds", 1);
      putIfAbsent(p, "periodSeconds", 10);
      putIfAbsent(p, "successThreshold", 1);
      putIfAbsent(p, "failureThreshold", 3);
      httpGet(p);
    }
    if (c.getValue("lifecycle") instanceof JsonObject lifecycle) {
      for (String hook : List.of("postStart", "preStop")) {
        if (lifecycle.getValue(hook) instanceof JsonObject h) httpGet(h);
      }
    }
  }

  /** An HTTP GET action's defaults: path "/", scheme HTTP. */
  private static void httpGet(JsonObject handler) {
    if (!(handler.getValue("httpGet") instanceof JsonObject get)) return;
    if (get.getString("path", "").isEmpty()) get.put("path", "/");
    putIfAbsent(get, "scheme", "HTTP");
  }

  /** Guaranteed when every container has equal cpu and memory limits and requests; else Burstable or BestEffort. */
  static String qosClass(JsonObject spec) {
    boolean any = false;
    boolean guaranteed = true;
    JsonArray cs = spec.getJsonArray("containers", new JsonArray());
    for (int i = 0; i < cs.size(); i++) {
      JsonObject res = cs.getJsonObject(i).getJsonObject("resources", new JsonObject());
      JsonObject req = res.getJsonObject("requests", new JsonObject());
      JsonObject lim = res.getJsonObject("limits", new JsonObject());
      if (!req.isEmpty() || !lim.isEmpty()) any = true;
      for (String r : new String[] {"cpu", "memory"}) {
        Object l = lim.getValue(r);
        Object q = req.containsKey(r) ? req.getValue(r) : l;
        if (l == null || !String.valueOf(l).equals(String.valueOf(q))) guaranteed = false;
      }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
  }

  /** The annotation a DaemonSet's template generation is kept in (apps/v1 has no field for it). */
  public static final String DAEMONSET_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";

  /**
   * A DaemonSet's template generation, as kube's strategy keeps it: 1 on create (or what the request says, if more),
   * one more on every update that changes spec.template, else the stored one whatever the request says.
   */
  public static void daemonSetTemplateGeneration(JsonObject old, JsonObject next) {
    JsonObject meta = Meta.meta(next);
    JsonObject annotations = meta.getJsonObject("annotations", new JsonObject());
    long generation;
    if (old == null) {
      long asked = parseLong(annotations.getString(DAEMONSET_TEMPLATE_GENERATION));
      generation = Math.max(asked, 1);
    } else {
      long before = Math.max(parseLong(Meta.meta(old).getJsonObject("annotations", new JsonObject())
          .getString(DAEMONSET_TEMPLATE_GENERATION)), 1);
      Object t1 = old.getJsonObject("spec", new JsonObject()).getValue("template");
      Object t2 = next.getJsonObject("spec", new JsonObject()).getValue("template");
      generation = java.util.Objects.equals(t1, t2) ? before : before + 1;
    }
    annotations.put(DAEMONSET_TEMPLATE_GENERATION, String.valueOf(generation));
    meta.put("annotations", annotations);
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * A new Job's identity, as the Job strategy prepares it on create: the uid is chosen here so that,
   * unless spec.manualSelector, the selector can name it and the pod template carries the labels
   * `kubectl logs job/x` and the Job controller find pods by.
   */
  public static void jobIdentity(JsonObject job, String uid) {
    JsonObject meta = Meta.meta(job);
    meta.put("uid", uid);
    JsonObject spec = job.getJsonObject("spec");
    if (spec == null || spec.getBoolean("manualSelector", false)) return;
    JsonObject template = spec.getJsonObject("template");
    if (template == null) return;
    JsonObject tmeta = template.getJsonObject("metadata", new JsonObject());
    JsonObject labels = tmeta.getJsonObject("labels", new JsonObject());
    labels.put("batch.kubernetes.io/controller-uid", uid).put("batch.kubernetes.io/job-name", Meta.name(job))
        .put("controller-uid", uid).put("job-name", Meta.name(job));
    tmeta.put("labels", labels);
    template.put("metadata", tmeta);
    spec.put("selector", new JsonObject().put("matchLabels",
        new JsonObject().put("batch.kubernetes.io/controller-uid", uid)));
    // A Job without labels of its own has its pods' (kube defaults them so on every read): `-l job-name=...` finds it.
    if (meta.getJsonObject("labels", new JsonObject()).isEmpty()) meta.put("labels", labels.copy());
  }

  private static void putIfAbsent(JsonObject o, String k, Object v) {
    if (!o.containsKey(k)) o.put(k, v);
  }

  /** A custom resource's schema defaults alone (kube applies them on reads from storage too); false if it has none. */
  public static boolean customDefaults(ResourceType type, JsonObject obj) {
    if (!hasCustomDefaults(type)) return false;
    schemaDefaults(type.schema(), obj, true);
    return true;
  }

  /** Whether a custom resource's schema defaults any field. */
  public static boolean hasCustomDefaults(ResourceType type) {
    return type.isCustom() && type.schema() != null
        && HAS_DEFAULTS.computeIfAbsent(type.schema(), s -> s.encode().contains("\"default\""));
  }

  /** Whether a schema has any default, by schema instance (a definition's types share theirs). */
  private static final java.util.Map<JsonObject, Boolean> HAS_DEFAULTS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /**
   * A custom resource's structural-schema defaults, as the apiextensions server applies them: a field
   * whose schema has a {@code default} gets it when absent (or null and not nullable), at every depth
   * (properties, additionalProperties, array items); apiVersion, kind and metadata at the root are not
   * touched.
   */
  static void schemaDefaults(JsonObject schema, Object value, boolean root) {
    if (value instanceof JsonObject obj) {
      JsonObject props = schema.getJsonObject("properties");
      if (props != null) {
        for (String name : props.fieldNames()) {
          if (root && (name.equals("apiVersion") || name.equals("kind") || name.equals("metadata"))) continue;
          if (!(props.getValue(name) instanceof JsonObject ps)) continue;
          boolean missing = !obj.containsKey(name) || obj.getValue(name) == null && !ps.getBoolean("nullable", false);
          if (missing && ps.containsKey("default")) obj.put(name, copyOf(ps.getValue("default")));
          if (obj.getValue(name) != null) schemaDefaults(ps, obj.getValue(name), false);
        }
      }
      if (schema.getValue("additionalProperties") instanceof JsonObject extra) {
        for (String name : obj.fieldNames()) {
          if (props == null || !props.containsKey(name)) schemaDefaults(extra, obj.getValue(name), false);
        }
      }
    } else if (value instanceof JsonArray items && schema.getValue("items") instanceof JsonObject itemSchema) {
      for (Object item : items) schemaDefaults(itemSchema, item, false);
    }
  }

  private static Object copyOf(Object v) {
    if (v instanceof JsonObject o) return o.copy();
    if (v instanceof JsonArray a) return a.copy();
    return v;
  }
}
