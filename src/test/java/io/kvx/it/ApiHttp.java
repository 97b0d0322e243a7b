package io.kvx.it;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/** Raw Kubernetes REST calls to one kvx API server with the admin bearer token, for store ITs. */
final class ApiHttp {

  record Reply(int code, JsonObject body) {}

  final String base;
  private final String token;
  private final HttpClient http;

  ApiHttp(KvxProcess p) throws Exception {
    this("https://127.0.0.1:" + p.apiPort, Files.readString(p.home.resolve("admin.token")).trim());
  }

  ApiHttp(String base, String token) throws Exception {
    this.base = base;
    this.token = token;
    this.http = HttpClient.newBuilder().sslContext(KvxProcess.insecureClient().sslContext())
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(3)).build();
  }

  private HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").header("Accept", "application/json");
  }

  CompletableFuture<Reply> sendAsync(String method, String path, JsonObject body) {
    HttpRequest r = req(path).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode())).build();
    return http.sendAsync(r, HttpResponse.BodyHandlers.ofString()).thenApply(ApiHttp::reply);
  }

  Reply send(String method, String path, JsonObject body) throws Exception {
    return sendAsync(method, path, body).get();
  }

  /** A request with its own content type and a raw body (apply-patch+yaml, ...). */
  Reply send(String method, String path, String contentType, String body) throws Exception {
    HttpRequest r = req(path).timeout(Duration.ofSeconds(30)).setHeader("Content-Type", contentType)
        .method(method, HttpRequest.BodyPublishers.ofString(body)).build();
    return reply(http.send(r, HttpResponse.BodyHandlers.ofString()));
  }

  Reply get(String path) throws Exception {
    return send("GET", path, null);
  }

  /** A GET asking for another representation (Table, PartialObjectMetadata...). */
  Reply get(String path, String accept) throws Exception {
    return reply(http.send(req(path).timeout(Duration.ofSeconds(30)).setHeader("Accept", accept).GET().build(),
        HttpResponse.BodyHandlers.ofString()));
  }

  /** A watch (or any streaming GET): the status code and the body's lines as they arrive. */
  HttpResponse<Stream<String>> stream(String path) throws java.io.IOException, InterruptedException {
    return http.send(req(path).build(), HttpResponse.BodyHandlers.ofLines());
  }

  private static Reply reply(HttpResponse<String> r) {
    String b = r.body();
    JsonObject json;
    try {
      json = b == null || b.isBlank() ? new JsonObject() : new JsonObject(b);
    } catch (RuntimeException e) {
      json = new JsonObject().put("raw", b);
    }
    return new Reply(r.statusCode(), json);
  }
}
