package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDockerfile parses the repository's Dockerfile with BuildKit's parser and checks it.
func TestDockerfile(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf("the image needs a .dockerignore: %v", err)
	}
	df, err := ParseDockerfile(content)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range CheckDockerfile(df, root, ignore) {
		t.Error(p)
	}
	// The image's versions agree with the project's: Go toolchain and GoNB tools.
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if got := df.GlobalArgs["GO_VERSION"]; compareVersions(got, string(m[1])) < 0 {
		t.Errorf("Dockerfile GO_VERSION=%s is older than go.mod's go %s", got, m[1])
	}
	script, err := os.ReadFile(filepath.Join(root, ".ci", "install-gonb.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"GOIMPORTS_VERSION", "GOPLS_VERSION"} {
		want := arg + `:-` + df.GlobalArgs[arg] + `}`
		if df.GlobalArgs[arg] == "" || !strings.Contains(string(script), want) {
			t.Errorf("Dockerfile ARG %s=%q differs from the default in .ci/install-gonb.sh (want %q there)", arg, df.GlobalArgs[arg], want)
		}
	}
	checkPJRTVersions(t, root, df)
	final := df.Final()
	t.Logf("%d stages; final stage %q FROM %s with %d instructions", len(df.Stages), final.Name, final.Image, len(final.Instructions))
}

// checkPJRTVersions checks the image's XLA pieces agree with go-xla as the project uses
// it: the pjrt-install module pins the same go-xla version as go.mod, the CPU plugin is
// go-xla's DefaultCPUVersion, and the CUDA base image's major version is the plugin's.
func checkPJRTVersions(t *testing.T, root string, df *Dockerfile) {
	t.Helper()
	goXLA := regexp.MustCompile(`github\.com/gomlx/go-xla (v\S+)`)
	var versions []string
	for _, f := range []string{"go.mod", filepath.Join(".ci", "pjrt-install", "go.mod")} {
		content, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		m := goXLA.FindSubmatch(content)
		if m == nil {
			t.Fatalf("%s does not require github.com/gomlx/go-xla", f)
		}
		versions = append(versions, string(m[1]))
	}
	if versions[0] != versions[1] {
		t.Errorf("go-xla %s in go.mod but %s in .ci/pjrt-install/go.mod", versions[0], versions[1])
	}
	// go-xla's DefaultCPUVersion, from the module cache.
	// Asked in the project's module, which requires go-xla (this one does not).
	goList := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gomlx/go-xla")
	goList.Dir = root
	out, err := goList.Output()
	if err != nil {
		t.Logf("go-xla not in the module cache (%v): CPU plugin version not compared", err)
	} else {
		utils, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "utils", "utils.go"))
		m := regexp.MustCompile(`DefaultCPUVersion = "(v[^"]+)"`).FindSubmatch(utils)
		switch {
		case err != nil || m == nil:
			t.Logf("DefaultCPUVersion not found in go-xla (%v): CPU plugin version not compared", err)
		case df.GlobalArgs["PJRT_CPU_VERSION"] != string(m[1]):
			t.Errorf("PJRT_CPU_VERSION=%s, but go-xla %s was tested with %s", df.GlobalArgs["PJRT_CPU_VERSION"], versions[0], m[1])
		}
	}
	plugin := df.GlobalArgs["PJRT_CUDA_PLUGIN"] // "cuda13"
	cudaMajor := regexp.MustCompile(`^nvidia/cuda:(\d+)\.`).FindStringSubmatch(df.GlobalArgs["CUDA_IMAGE"])
	if cudaMajor == nil || "cuda"+cudaMajor[1] != plugin {
		t.Errorf("CUDA_IMAGE=%s does not match PJRT_CUDA_PLUGIN=%s", df.GlobalArgs["CUDA_IMAGE"], plugin)
	}
	if !strings.Contains(df.GlobalArgs["CUDA_IMAGE"], "cudnn") || !strings.Contains(df.GlobalArgs["CUDA_IMAGE"], "runtime") {
		t.Errorf("CUDA_IMAGE=%s is not a cuDNN runtime image", df.GlobalArgs["CUDA_IMAGE"])
	}
}

// compareVersions compares dotted decimal versions ("1.26.8" vs "1.26.5").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// goodDockerfile is a minimal Dockerfile that passes every check.
const goodDockerfile = `# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.26.8
ARG BASE=ubuntu:24.04
FROM golang:${GO_VERSION}-bookworm AS go
FROM ${BASE} AS final
ARG TOOL_VERSION=v0.44.0
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:/usr/bin:/bin X=1
RUN useradd -m cmemae && go install golang.org/x/tools/cmd/goimports@${TOOL_VERSION} && pip install "jupyterlab==4.4.10"
USER cmemae
WORKDIR /home/cmemae/cmemae
COPY --chown=cmemae go.mod go.sum ./
COPY .ci/install-gonb.sh .ci/
RUN GONB_GO_WORK=/home/cmemae/cmemae bash .ci/install-gonb.sh
COPY notebooks/ notebooks/
COPY . .
VOLUME ["/home/cmemae/cmemae/results", "/data"]
EXPOSE 8888
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8888/api || exit 1
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["jupyter", "lab"]
`

// fakeRepo makes a build context with the files goodDockerfile copies.
func fakeRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", ".ci/install-gonb.sh", "notebooks/00_quickstart.ipynb"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func check(t *testing.T, dockerfile, ignore, repo string) []string {
	t.Helper()
	df, err := ParseDockerfile([]byte(dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	return CheckDockerfile(df, repo, []byte(ignore))
}

func TestCheckDockerfileGood(t *testing.T) {
	repo := fakeRepo(t)
	if problems := check(t, goodDockerfile, ".git\nresults\n", repo); len(problems) != 0 {
		t.Errorf("good Dockerfile: got problems:\n%s", strings.Join(problems, "\n"))
	}
	df, err := ParseDockerfile([]byte(goodDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Stages) != 2 || df.Stages[0].Image != "golang:1.26.8-bookworm" || df.Final().Image != "ubuntu:24.04" {
		t.Errorf("stages = %+v", df.Stages)
	}
	// The RUN line sees the stage ARG.
	var run Instruction
	for _, ins := range df.Final().Instructions {
		if ins.Cmd == "run" {
			run = ins
			break
		}
	}
	if !strings.Contains(strings.Join(run.Args, " "), "goimports@v0.44.0") {
		t.Errorf("RUN not expanded: %+v", run)
	}
}

// TestCheckDockerfileBad breaks goodDockerfile one rule at a time.
func TestCheckDockerfileBad(t *testing.T) {
	repo := fakeRepo(t)
	cases := []struct {
		name, old, new, ignore, want string
	}{
		{"single stage", "FROM golang:${GO_VERSION}-bookworm AS go\n", "", "", "not multi-stage"},
		{"root user", "USER cmemae\n", "USER root\n", "", "runs as root"},
		{"no user", "USER cmemae\n", "", "", "runs as root"},
		{"latest image", "ARG BASE=ubuntu:24.04", "ARG BASE=ubuntu:latest", "", ":latest is not pinned"},
		{"untagged image", "ARG BASE=ubuntu:24.04", "ARG BASE=ubuntu", "", "has no tag"},
		{"arg without default", "ARG GO_VERSION=1.26.8", "ARG GO_VERSION", "", "ARG GO_VERSION has no default"},
		{"go @latest", "goimports@${TOOL_VERSION}", "goimports@latest", "", `"@latest" is not pinned`},
		{"pip unpinned", `"jupyterlab==4.4.10"`, "jupyterlab", "", `pip package "jupyterlab" is not pinned`},
		{"missing source", "COPY notebooks/ notebooks/", "COPY notes/ notebooks/", "", `source "notes/" does not exist`},
		{"ignored source", "", "", "notebooks\n", "excluded by .dockerignore"},
		{"bad --from", "--from=go /usr", "--from=builder /usr", "", "not a stage"},
		{"no expose", "EXPOSE 8888\n", "EXPOSE 9999\n", "", "does not EXPOSE 8888"},
		{"no healthcheck", "HEALTHCHECK CMD curl -fsS http://127.0.0.1:8888/api || exit 1\n", "", "", "no HEALTHCHECK"},
		{"kernel without go.work", "GONB_GO_WORK=/home/cmemae/cmemae bash", "bash", "", "not registered with GONB_GO_WORK"},
		{"no gonb script", "RUN GONB_GO_WORK=/home/cmemae/cmemae bash .ci/install-gonb.sh\n", "RUN go install github.com/janpfeifer/gonb@v0.11.4\n", "", "does not run .ci/install-gonb.sh"},
		{"notebooks elsewhere", "COPY notebooks/ notebooks/\nCOPY . .\n", "COPY notebooks/ /opt/notebooks/\n", "", "is not next to go.mod"},
		{"no volume", `VOLUME ["/home/cmemae/cmemae/results", "/data"]`, `VOLUME /data`, "", "no VOLUME /home/cmemae/cmemae/results"},
		{"apt unpinned", "RUN useradd -m cmemae", "RUN apt-get install -y curl && useradd -m cmemae", "", "without a dated archive snapshot"},
		{"no entrypoint", `ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]`, "", "", "no ENTRYPOINT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			df := goodDockerfile
			if c.old != "" {
				if !strings.Contains(df, c.old) {
					t.Fatalf("test bug: %q not in the good Dockerfile", c.old)
				}
				df = strings.Replace(df, c.old, c.new, 1)
			}
			problems := check(t, df, c.ignore, repo)
			found := false
			for _, p := range problems {
				if strings.Contains(p, c.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem containing %q, got:\n%s", c.want, strings.Join(problems, "\n"))
			}
		})
	}
}

func TestDockerignore(t *testing.T) {
	d := parseDockerignore([]byte("# comment\n.git\n**/*.test\nresults\n!results/keep\nnotebooks/executed\n"))
	for p, want := range map[string]bool{
		".git": true, ".git/HEAD": true, "pkg/x/x.test": true, "results/a.csv": true, "results/keep": false,
		"notebooks/executed/00.ipynb": true, "notebooks/00.ipynb": false, "go.mod": false,
	} {
		if got := d.ignored(p); got != want {
			t.Errorf("ignored(%q) = %v, want %v", p, got, want)
		}
	}
}
