package io.kvx.api;

import io.kubernetes.client.proto.IntStr;
import io.kubernetes.client.proto.Meta.ObjectMeta;
import io.kubernetes.client.proto.Meta.Time;
import io.kubernetes.client.proto.Resource;
import io.kubernetes.client.proto.Runtime;
import io.kubernetes.client.proto.V1;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProtobufTest {

  /** What kubectl sends: k8s\0, then runtime.Unknown{typeMeta, raw}. */
  private static byte[] wire(String apiVersion, String kind, com.google.protobuf.Message m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {'k', '8', 's', 0});
    Runtime.Unknown.newBuilder().setTypeMeta(Runtime.TypeMeta.newBuilder().setApiVersion(apiVersion).setKind(kind))
        .setRaw(m.toByteString()).build().writeTo(out);
    return out.toByteArray();
  }

  @Test
  void configMapAsKubectlCreateSendsIt() throws Exception {
    V1.ConfigMap cm = V1.ConfigMap.newBuilder()
        .setMetadata(ObjectMeta.newBuilder().setName("cm").setGenerateName("").setCreationTimestamp(Time.newBuilder()))
        .putData("a", "1").putData("empty", "").build();
    JsonObject json = Protobuf.decode(wire("v1", "ConfigMap", cm));
    assertEquals(new JsonObject("""
        {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"a":"1","empty":""}}"""), json);
  }

  @Test
  void managedFieldsKeepTheirFieldSetsAsJson() throws Exception {
    var entry = io.kubernetes.client.proto.Meta.ManagedFieldsEntry.newBuilder().setManager("kubectl")
        .setOperation("Apply").setApiVersion("v1").setFieldsType("FieldsV1")
        .setFieldsV1(io.kubernetes.client.proto.Meta.FieldsV1.newBuilder().setRaw(com.google.protobuf.ByteString
            .copyFromUtf8("{\"f:data\":{\"f:a\":{}}}")));
    V1.ConfigMap cm = V1.ConfigMap.newBuilder()
        .setMetadata(ObjectMeta.newBuilder().setName("cm").addManagedFields(entry)).putData("a", "1").build();
    JsonObject json = Protobuf.decode(wire("v1", "ConfigMap", cm));
    assertEquals(new JsonObject("""
        {"manager":"kubectl","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1",
         "fieldsV1":{"f:data":{"f:a":{}}}}"""),
        json.getJsonObject("metadata").getJsonArray("managedFields").getJsonObject(0));
  }

  @Test
  void deleteOptionsAsHelmSendsThem() throws Exception {
    io.kubernetes.client.proto.Meta.DeleteOptions opts = io.kubernetes.client.proto.Meta.DeleteOptions.newBuilder()
        .setPropagationPolicy("Background").build();
    JsonObject json = Protobuf.decode(wire("v1", "DeleteOptions", opts));
    assertEquals("Background", json.getString("propagationPolicy"));
    assertEquals("DeleteOptions", json.getString("kind"));
  }

  @Test
  void autoscalingV2DecodesWithItsLastBetaAndIngressRulesAreInline() throws Exception {
    var hpa = io.kubernetes.client.proto.V2beta2Autoscaling.HorizontalPodAutoscaler.newBuilder()
        .setMetadata(ObjectMeta.newBuilder().setName("h"))
        .setSpec(io.kubernetes.client.proto.V2beta2Autoscaling.HorizontalPodAutoscalerSpec.newBuilder()
            .setMaxReplicas(3)).build();
    JsonObject json = Protobuf.decode(wire("autoscaling/v2", "HorizontalPodAutoscaler", hpa));
    assertEquals(3, json.getJsonObject("spec").getInteger("maxReplicas"));
    var rule = io.kubernetes.client.proto.V1Networking.IngressRule.newBuilder().setHost("foo.com")
        .setIngressRuleValue(io.kubernetes.client.proto.V1Networking.IngressRuleValue.newBuilder()
            .setHttp(io.kubernetes.client.proto.V1Networking.HTTPIngressRuleValue.newBuilder())).build();
    var ing = io.kubernetes.client.proto.V1Networking.Ingress.newBuilder()
        .setSpec(io.kubernetes.client.proto.V1Networking.IngressSpec.newBuilder().addRules(rule)).build();
    JsonObject rules = Protobuf.decode(wire("networking.k8s.io/v1", "Ingress", ing)).getJsonObject("spec")
        .getJsonArray("rules").getJsonObject(0);
    assertEquals("foo.com", rules.getString("host"));
    assertFalse(rules.containsKey("ingressRuleValue"), rules.encode());
  }

  @Test
  void quantitiesPortsAndTimesTakeTheirJsonForms() throws Exception {
    V1.Pod pod = V1.Pod.newBuilder()
        .setMetadata(ObjectMeta.newBuilder().setName("p").setCreationTimestamp(Time.newBuilder().setSeconds(1_700_000_000)))
        .setSpec(V1.PodSpec.newBuilder().addContainers(V1.Container.newBuilder().setName("c").setImage("busybox")
            .setResources(V1.ResourceRequirements.newBuilder().putLimits("cpu",
                Resource.Quantity.newBuilder().setString("250m").build()))
            .setReadinessProbe(V1.Probe.newBuilder().setHandler(V1.ProbeHandler.newBuilder().setTcpSocket(
                V1.TCPSocketAction.newBuilder().setPort(IntStr.IntOrString.newBuilder().setType(1).setStrVal("http"))))))
            .setTerminationGracePeriodSeconds(5L))
        .build();
    JsonObject json = Protobuf.decode(wire("v1", "Pod", pod));
    JsonObject c = json.getJsonObject("spec").getJsonArray("containers").getJsonObject(0);
    assertEquals("250m", c.getJsonObject("resources").getJsonObject("limits").getString("cpu"));
    assertEquals("http", c.getJsonObject("readinessProbe").getJsonObject("tcpSocket").getString("port"));
    assertEquals("2023-11-14T22:13:20Z", json.getJsonObject("metadata").getString("creationTimestamp"));
    assertEquals(5L, json.getJsonObject("spec").getLong("terminationGracePeriodSeconds"));
    assertFalse(json.getJsonObject("metadata").containsKey("generateName"));
  }

  @Test
  void badBodiesAreClientErrors() throws Exception {
    assertEquals(400, assertThrows(ApiError.class, () -> Protobuf.decode("{}".getBytes())).code());
    assertEquals(400, assertThrows(ApiError.class, () -> Protobuf.decode(new byte[] {'k', '8', 's', 0, 9, 9, 9}))
        .code());
    assertEquals(415, assertThrows(ApiError.class,
        () -> Protobuf.decode(wire("example.com/v1", "Widget", V1.ConfigMap.getDefaultInstance()))).code());
  }

  @Test
  void encodedObjectsDecodeToTheSameJson() {
    JsonObject pod = new JsonObject("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n","labels":{"a":"1"},
         "creationTimestamp":"2026-11-23T10:00:00Z","resourceVersion":"42"},
         "spec":{"containers":[{"name":"c","image":"busybox","command":["sh","-c","true"],
           "resources":{"limits":{"cpu":"500m","memory":"64Mi"}},
           "ports":[{"containerPort":8080,"protocol":"TCP"}],
           "readinessProbe":{"httpGet":{"path":"/","port":"http"},"periodSeconds":5}}],
          "terminationGracePeriodSeconds":1,"hostNetwork":true},
         "status":{"phase":"Running"}}""");
    assertEquals(pod, Protobuf.decode(Protobuf.encode(pod)));
    // Go's embedded structs are inline in JSON: LocalObjectReference's name, EphemeralContainerCommon's fields.
    JsonObject refs = new JsonObject("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"r"},
         "spec":{"containers":[{"name":"c","image":"busybox",
           "envFrom":[{"configMapRef":{"name":"cfg"}},{"secretRef":{"name":"sec","optional":true}}],
           "env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"a"}}},
                  {"name":"B","valueFrom":{"secretKeyRef":{"name":"sec","key":"b"}}}]}],
          "ephemeralContainers":[{"name":"dbg","image":"busybox","targetContainerName":"c"}],
          "volumes":[{"name":"v","configMap":{"name":"cfg","defaultMode":420}},
                     {"name":"p","projected":{"sources":[{"configMap":{"name":"cfg"}},{"secret":{"name":"sec"}}]}}]}}""");
    assertEquals(refs, Protobuf.decode(Protobuf.encode(refs)));
    JsonObject list = new JsonObject("""
        {"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"7","continue":"abc"},
         "items":[{"metadata":{"name":"a"},"data":{"k":"v","empty":""}}]}""");
    assertEquals(list, Protobuf.decode(Protobuf.encode(list)));
    JsonObject status = new JsonObject("""
        {"apiVersion":"v1","kind":"Status","metadata":{},"status":"Failure","message":"gone","reason":"NotFound",
         "code":404,"details":{"name":"x","kind":"pods"}}""");
    assertEquals(status, Protobuf.decode(Protobuf.encode(status)));
  }

  @Test
  void kindsWithoutAMessageAreNotEncoded() {
    ApiError e = assertThrows(ApiError.class, () -> Protobuf.encode(new JsonObject()
        .put("apiVersion", "example.kvx.io/v1").put("kind", "Widget")));
    assertEquals(415, e.code());
  }
}
