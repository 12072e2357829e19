// Package deploy_test checks the deployment files: every Kubernetes manifest decodes strictly into
// its k8s.io/api type, each kustomization lists exactly the manifests beside it, the systemd units
// carry the settings the README promises, and the Grafana dashboard charts every family.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// newObject returns the typed object for a manifest's apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	}
	return nil, false
}

// documents splits a YAML file on its "---" lines and drops empty documents.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	var cur bytes.Buffer
	flush := func() {
		if strings.TrimSpace(stripComments(cur.String())) != "" {
			out = append(out, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.TrimRight(sc.Text(), " ") == "---" {
			flush()
			continue
		}
		cur.WriteString(sc.Text() + "\n")
	}
	flush()
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decodeStrict decodes a manifest's JSON into obj, failing on any field the type lacks: once with
// encoding/json (DisallowUnknownFields), once with sigs.k8s.io/json, which the API server uses and
// which also refuses a field spelt in the wrong case or given twice.
func decodeStrict(js []byte, obj any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the object")
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return fmt.Errorf("%v", strict)
	}
	return nil
}

type manifest struct {
	path string
	kind string
	name string
	obj  any
}

// kustomization is the part of kustomize's file we use; anything else fails the strict decoding.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
}

func topologies(t *testing.T) []string {
	t.Helper()
	ks, err := filepath.Glob(filepath.Join("kubernetes", "*", "kustomization.yaml"))
	if err != nil || len(ks) == 0 {
		t.Fatalf("no kubernetes/*/kustomization.yaml (%v)", err)
	}
	var dirs []string
	for _, k := range ks {
		dirs = append(dirs, filepath.Dir(k))
	}
	return dirs
}

// loadTopology decodes every manifest of dir strictly and checks its kustomization lists exactly
// the manifests there.
func loadTopology(t *testing.T, dir string) []manifest {
	t.Helper()
	var k kustomization
	kdocs := documents(t, filepath.Join(dir, "kustomization.yaml"))
	if len(kdocs) != 1 {
		t.Fatalf("%s/kustomization.yaml: %d documents, want 1", dir, len(kdocs))
	}
	js, err := yaml.YAMLToJSONStrict(kdocs[0])
	if err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if err := decodeStrict(js, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s/kustomization.yaml: %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", dir, k.APIVersion, k.Kind)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	var onDisk []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			onDisk = append(onDisk, b)
		}
	}
	listed := slices.Clone(k.Resources)
	sort.Strings(onDisk)
	sort.Strings(listed)
	if !slices.Equal(onDisk, listed) {
		t.Errorf("%s/kustomization.yaml lists %v; the directory holds %v", dir, listed, onDisk)
	}

	var out []manifest
	for _, f := range onDisk {
		path := filepath.Join(dir, f)
		for i, doc := range documents(t, path) {
			where := fmt.Sprintf("%s (document %d)", path, i+1)
			js, err := yaml.YAMLToJSONStrict(doc)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			var tm metav1.TypeMeta
			if err := json.Unmarshal(js, &tm); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			obj, ok := newObject(tm.APIVersion, tm.Kind)
			if !ok {
				t.Errorf("%s: no k8s.io/api type for %q %q (add it to newObject)", where, tm.APIVersion, tm.Kind)
				continue
			}
			if err := decodeStrict(js, obj); err != nil {
				t.Errorf("%s: %s: %v", where, tm.Kind, err)
				continue
			}
			name := obj.(metav1.Object).GetName()
			if name == "" {
				t.Errorf("%s: %s has no metadata.name", where, tm.Kind)
			}
			out = append(out, manifest{path: where, kind: tm.Kind, name: name, obj: obj})
		}
	}
	return out
}

// Every manifest decodes strictly into its k8s.io/api type; each kustomization lists exactly the
// manifests in its directory.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	for _, dir := range topologies(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if ms := loadTopology(t, dir); len(ms) == 0 {
				t.Fatal("no manifests")
			}
		})
	}
}

// The strict decoding refuses what a typo would produce: an unknown field, a field in the wrong
// case, a field given twice.
func TestStrictDecodingRefusesTypos(t *testing.T) {
	for _, bad := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1, targetPorts: http}]}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{Port: 1}]}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: None, clusterIP: None}\n",
	} {
		js, err := yaml.YAMLToJSONStrict([]byte(bad))
		if err != nil {
			continue // refused by the YAML layer (a key given twice)
		}
		if err := decodeStrict(js, &corev1.Service{}); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
}

// What the topologies promise: probes on /is-alive and /is-healthy, resource requests, Services
// that select pods of their topology, the config from a ConfigMap and the keys from a Secret, and
// in the Redis topology an ingress of 2 replicas, Redis and edges behind a Service and a headless
// Service.
func TestKubernetesTopologies(t *testing.T) {
	for _, dir := range topologies(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ms := loadTopology(t, dir)
			pods := map[string]*corev1.PodTemplateSpec{} // workload name -> template
			replicas := map[string]int32{}
			kinds := map[string][]string{}
			for _, m := range ms {
				kinds[m.kind] = append(kinds[m.kind], m.name)
				switch o := m.obj.(type) {
				case *appsv1.Deployment:
					pods[m.name], replicas[m.name] = &o.Spec.Template, ptrOr(o.Spec.Replicas, 1)
				case *appsv1.StatefulSet:
					pods[m.name], replicas[m.name] = &o.Spec.Template, ptrOr(o.Spec.Replicas, 1)
				}
			}
			for name, tpl := range pods {
				for _, c := range tpl.Spec.Containers {
					where := name + "/" + c.Name
					if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
						t.Errorf("%s: no CPU and memory requests", where)
					}
					if !strings.Contains(c.Image, "distributor") {
						continue
					}
					if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/is-alive" {
						t.Errorf("%s: liveness probe is not GET /is-alive", where)
					}
					if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/is-healthy" {
						t.Errorf("%s: readiness probe is not GET /is-healthy", where)
					}
					var fromConfigMap, fromSecret bool
					for _, e := range c.EnvFrom {
						fromConfigMap = fromConfigMap || e.ConfigMapRef != nil
						fromSecret = fromSecret || e.SecretRef != nil
					}
					if !fromConfigMap || !fromSecret {
						t.Errorf("%s: configuration from a ConfigMap %v, keys from a Secret %v; want both", where, fromConfigMap, fromSecret)
					}
					if sc := tpl.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
						t.Errorf("%s: not runAsNonRoot", where)
					}
				}
			}
			services := 0
			headless := 0
			for _, m := range ms {
				svc, ok := m.obj.(*corev1.Service)
				if !ok {
					continue
				}
				services++
				if svc.Spec.ClusterIP == corev1.ClusterIPNone {
					headless++
				}
				matched := false
				for _, tpl := range pods {
					if selects(svc.Spec.Selector, tpl.Labels) {
						matched = true
					}
				}
				if !matched {
					t.Errorf("%s: Service %s selects no pod of this topology (%v)", m.path, svc.Name, svc.Spec.Selector)
				}
			}
			if len(kinds["ConfigMap"]) == 0 || len(kinds["Secret"]) == 0 || services == 0 {
				t.Errorf("want a ConfigMap, a Secret and a Service; have %v", kinds)
			}
			if filepath.Base(dir) != "redis" {
				return
			}
			if replicas["distributor-ingress"] != 2 {
				t.Errorf("ingress has %d replicas, want 2 (active and standby)", replicas["distributor-ingress"])
			}
			if ing := pods["distributor-ingress"]; ing == nil || !slices.Equal(ing.Spec.Containers[0].Args, []string{"ingress"}) || len(ing.Spec.Volumes) == 0 {
				t.Error("want a distributor-ingress running `distributor ingress` with the data volume")
			}
			edge := pods["distributor-edge"]
			if edge == nil || !hasEnv(edge.Spec.Containers[0], "FIREHOSE_SOURCE", "redis") || edge.Spec.Containers[0].Args[0] != "start" {
				t.Error("want a distributor-edge Deployment running `distributor start` with FIREHOSE_SOURCE=redis")
			}
			if pods["redis"] == nil {
				t.Error("want a redis workload")
			}
			if headless == 0 || services < 2 {
				t.Errorf("want a Service and a headless Service for the edges; %d Services, %d headless", services, headless)
			}
		})
	}
}

func ptrOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func hasEnv(c corev1.Container, name, value string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

// The systemd units run what the README says, restart on failure, give the parent the stop
// (KillMode=mixed) and carry the Go runtime defaults as Environment= lines.
func TestSystemdUnits(t *testing.T) {
	units := map[string]string{
		"distributor.service":         "/usr/local/bin/distributor start --grace 5s",
		"distributor-ingress.service": "/usr/local/bin/distributor ingress",
		"distributor-edge.service":    "/usr/local/bin/distributor start --grace 5s",
	}
	files, _ := filepath.Glob(filepath.Join("systemd", "*.service"))
	if len(files) != len(units) {
		t.Errorf("systemd/ holds %v, want the %d units of this test", files, len(units))
	}
	for name, exec := range units {
		b, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Error(err)
			continue
		}
		set := map[string][]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
				set[k] = append(set[k], v)
			}
		}
		want := map[string]string{"ExecStart": exec, "Restart": "on-failure", "KillMode": "mixed", "Type": "simple"}
		for k, v := range want {
			if !slices.Contains(set[k], v) {
				t.Errorf("%s: %s=%v, want %s", name, k, set[k], v)
			}
		}
		var gogc, memlimit bool
		for _, e := range set["Environment"] {
			gogc = gogc || strings.HasPrefix(e, "GOGC=")
			memlimit = memlimit || strings.HasPrefix(e, "GOMEMLIMIT=")
		}
		if !gogc || !memlimit {
			t.Errorf("%s: Environment= lines for GOGC %v and GOMEMLIMIT %v; want both", name, gogc, memlimit)
		}
		if name == "distributor-edge.service" && !slices.Contains(set["Environment"], "FIREHOSE_SOURCE=redis") {
			t.Errorf("%s: no Environment=FIREHOSE_SOURCE=redis", name)
		}
	}
}

// The Grafana dashboard is valid JSON and charts every family /metrics exposes.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "distributor.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/distributor.json: %v", err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("grafana/distributor.json: uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	var exprs strings.Builder
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q (%s) has no title or no query", p.Title, p.Type)
		}
		for _, tg := range p.Targets {
			exprs.WriteString(tg.Expr + "\n")
		}
	}
	for _, f := range []string{
		"distributor_subscribers", "distributor_children", "distributor_frames_sent_total",
		"distributor_bytes_sent_total", "distributor_lines_read_total", "distributor_reader_lag_seconds",
		"distributor_clients_closed_total", "distributor_handshakes_total", "distributor_http_requests_total",
		"distributor_http_request_duration_seconds_bucket", "process_resident_memory_bytes",
		"process_cpu_seconds_total", "go_goroutines",
	} {
		if !regexp.MustCompile(`\b` + f + `\b`).MatchString(exprs.String()) {
			t.Errorf("no panel queries %s", f)
		}
	}
}
