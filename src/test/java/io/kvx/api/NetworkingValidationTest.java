package io.kvx.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NetworkingValidationTest {

  private static List<String> ingress(String spec) {
    List<ApiError.Cause> causes = new ArrayList<>();
    NetworkingValidation.validateIngress(new JsonObject().put("spec", new JsonObject(spec)), causes);
    return causes.stream().map(c -> c.field() + ": " + c.message()).toList();
  }

  private static List<String> policy(String spec) {
    List<ApiError.Cause> causes = new ArrayList<>();
    NetworkingValidation.validateNetworkPolicy(new JsonObject().put("spec", new JsonObject(spec)), causes);
    return causes.stream().map(c -> c.field() + ": " + c.message()).toList();
  }

  @Test
  void aValidIngressPasses() {
    assertEquals(List.of(), ingress("""
        {"ingressClassName":"nginx","tls":[{"hosts":["*.example.com","a.example.com"]}],
         "rules":[{"host":"*.example.com","http":{"paths":[
           {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}},
           {"path":"/api","pathType":"ImplementationSpecific","backend":{"service":{"name":"api","port":{"name":"http"}}}}]}}]}
        """));
  }

  @Test
  void ingressMistakesNameTheirFields() {
    assertEquals(List.of("spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"), ingress("{}"));
    List<String> causes = ingress("""
        {"rules":[{"host":"10.0.0.1","http":{"paths":[
          {"path":"/a","backend":{"service":{"name":"web","port":{"number":80}}}},
          {"path":"api","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":70000}}}},
          {"path":"/a//b","pathType":"Exact","backend":{"service":{"name":"Web","port":{}}}},
          {"path":"/","pathType":"Regex","backend":{}}]}},
          {"host":"foo.*.com","http":{"paths":[]}}]}
        """);
    assertEquals(List.of(
        "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        "spec.rules[0].http.paths[1].path: Invalid value: \"api\": must be an absolute path",
        "spec.rules[0].http.paths[1].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.rules[0].http.paths[2].path: Invalid value: \"/a//b\": must not contain '//'",
        "spec.rules[0].http.paths[2].backend.service.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower "
            + "case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
            + "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        "spec.rules[0].http.paths[2].backend: Required value: port name or number is required",
        "spec.rules[0].http.paths[3].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", "
            + "\"ImplementationSpecific\", \"Prefix\"",
        "spec.rules[0].http.paths[3].backend: Invalid value: \"\": resource or service backend is required"),
        causes.subList(0, 9));
    assertEquals(2, causes.size() - 9, causes.toString());
  }

  @Test
  void ingressClassesAndTheIngressClassAnnotation() {
    List<ApiError.Cause> causes = new ArrayList<>();
    NetworkingValidation.validateIngressClass(new JsonObject("{\"spec\":{\"controller\":\"nginx\","
        + "\"parameters\":{\"kind\":\"P\",\"name\":\"p\",\"scope\":\"Namespace\"}}}"), causes);
    assertEquals(List.of("spec.controller", "spec.parameters.namespace"), causes.stream().map(ApiError.Cause::field).toList());
    causes.clear();
    NetworkingValidation.validateIngress(new JsonObject("{\"metadata\":{\"annotations\":{\"kubernetes.io/ingress.class\":"
        + "\"nginx\"}},\"spec\":{\"ingressClassName\":\"traefik\",\"defaultBackend\":{\"service\":{\"name\":\"w\","
        + "\"port\":{\"number\":80}}},\"tls\":[{\"secretName\":\"Bad_Secret\"}]}}"), causes);
    assertEquals(List.of("annotations.kubernetes.io/ingress.class", "spec.tls[0].secretName"),
        causes.stream().map(ApiError.Cause::field).toList());
  }

  @Test
  void networkPolicyPortsPeersAndTypes() {
    assertEquals(List.of(), policy("""
        {"podSelector":{},"policyTypes":["Ingress","Egress"],
         "ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"a":"b"}},"podSelector":{}},
                             {"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}],
                     "ports":[{"protocol":"TCP","port":80,"endPort":90},{"port":"http"}]}],
         "egress":[{"to":[{"ipBlock":{"cidr":"2001:db8::/64"}}]}]}
        """));
    assertEquals(List.of(
        "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        "spec.ingress[0].ports[0].endPort: Invalid value: 70: must be greater than or equal to `port`",
        "spec.ingress[0].from[0]: Required value: must specify a peer",
        "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
        "spec.ingress[0].from[2].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. "
            + "10.9.8.0/24 or 2001:db8::/64)",
        "spec.ingress[0].from[3].ipBlock.except[0]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`",
        "spec.policyTypes[0]: Unsupported value: \"Both\": supported values: \"Egress\", \"Ingress\""), policy("""
        {"podSelector":{},"policyTypes":["Both"],
         "ingress":[{"ports":[{"protocol":"ICMP","port":80,"endPort":70}],
                     "from":[{},{"ipBlock":{"cidr":"10.0.0.0/8"},"podSelector":{}},{"ipBlock":{"cidr":"10.0.0.0/33"}},
                             {"ipBlock":{"cidr":"10.0.0.0/8","except":["192.168.0.0/24"]}}]}]}
        """));
  }

  @Test
  void selectorsAreCheckedFieldByField() {
    assertEquals(List.of(
        "spec.podSelector.matchLabels: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, "
            + "'-', '_' or '.', and must start and end with an alphanumeric character",
        "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.podSelector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or "
            + "'DoesNotExist'",
        "spec.podSelector.matchExpressions[2].operator: Invalid value: \"Foo\": not a valid selector operator"),
        policy("""
            {"podSelector":{"matchLabels":{"bad key!":"v"},"matchExpressions":[{"key":"a","operator":"In"},
              {"key":"b","operator":"Exists","values":["x"]},{"key":"c","operator":"Foo"}]}}"""));
  }
}
