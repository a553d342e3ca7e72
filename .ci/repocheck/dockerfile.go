package repocheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Instruction is one Dockerfile instruction, with ARG/ENV references expanded.
type Instruction struct {
	Cmd   string   // lower case: from, run, copy, ...
	Args  []string // arguments, variables expanded
	Raw   []string // arguments as written
	Flags []string // --from=..., --chown=...
	Line  int
}

// Stage is one build stage: its FROM line and the instructions after it.
type Stage struct {
	Name         string // "AS" name, may be empty
	Image        string // base image, variables expanded
	Instructions []Instruction
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	GlobalArgs map[string]string // ARGs before the first FROM, with their defaults
	Stages     []Stage
	// Unpinned lists ARG references without a value (no default) met while expanding.
	Unpinned []string
}

// ParseDockerfile parses Dockerfile content with BuildKit's parser and splits it
// into stages, expanding ARG and ENV references the way docker build would with no
// --build-arg given.
func ParseDockerfile(content []byte) (*Dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("repocheck: parsing Dockerfile: %w", err)
	}
	df := &Dockerfile{GlobalArgs: map[string]string{}}
	var vars map[string]string // current stage's ARG/ENV values
	var stage *Stage
	expand := func(s string, line int) string {
		return os.Expand(s, func(name string) string {
			if v, ok := vars[name]; ok && stage != nil {
				return v
			}
			if v, ok := df.GlobalArgs[name]; ok && stage == nil {
				return v
			}
			df.Unpinned = append(df.Unpinned, fmt.Sprintf("line %d: $%s has no value", line, name))
			return "${" + name + "}"
		})
	}
	for _, n := range res.AST.Children {
		ins := Instruction{Cmd: strings.ToLower(n.Value), Flags: n.Flags, Line: n.StartLine}
		for a := n.Next; a != nil; a = a.Next {
			ins.Raw = append(ins.Raw, a.Value)
		}
		switch ins.Cmd {
		case "arg":
			for _, kv := range ins.Raw {
				name, value, hasValue := strings.Cut(kv, "=")
				if stage == nil {
					if !hasValue {
						df.Unpinned = append(df.Unpinned, fmt.Sprintf("line %d: ARG %s has no default", n.StartLine, name))
					}
					df.GlobalArgs[name] = expand(value, n.StartLine)
					continue
				}
				if hasValue {
					vars[name] = expand(value, n.StartLine)
				} else if v, ok := df.GlobalArgs[name]; ok {
					vars[name] = v
				} else {
					df.Unpinned = append(df.Unpinned, fmt.Sprintf("line %d: ARG %s has no default", n.StartLine, name))
				}
			}
			ins.Args = ins.Raw
		case "from":
			if len(ins.Raw) == 0 {
				return nil, fmt.Errorf("repocheck: line %d: FROM without an image", n.StartLine)
			}
			saved := stage
			stage = nil // FROM sees only global ARGs
			img := expand(ins.Raw[0], n.StartLine)
			stage = saved
			st := Stage{Image: img}
			if len(ins.Raw) == 3 && strings.EqualFold(ins.Raw[1], "as") {
				st.Name = ins.Raw[2]
			}
			df.Stages = append(df.Stages, st)
			stage = &df.Stages[len(df.Stages)-1]
			vars = map[string]string{}
			ins.Args = []string{img}
			if st.Name != "" {
				ins.Args = append(ins.Args, "AS", st.Name)
			}
		case "env":
			// BuildKit gives (name, value, separator) triples.
			step := 2
			if len(ins.Raw)%3 == 0 {
				step = 3
			}
			for i := 0; i+1 < len(ins.Raw); i += step {
				v := expand(ins.Raw[i+1], n.StartLine)
				if stage != nil {
					vars[ins.Raw[i]] = v
				}
				ins.Args = append(ins.Args, ins.Raw[i], v)
			}
		default:
			for _, a := range ins.Raw {
				if ins.Cmd == "run" || ins.Cmd == "cmd" || ins.Cmd == "entrypoint" || ins.Cmd == "healthcheck" {
					// Shell commands expand variables at run time; keep shell variables
					// that are not ARG/ENV (e.g. "$(go env GOPATH)") as written.
					ins.Args = append(ins.Args, expandKnown(a, vars))
					continue
				}
				ins.Args = append(ins.Args, expand(a, n.StartLine))
			}
		}
		if stage == nil {
			if ins.Cmd != "arg" {
				return nil, fmt.Errorf("repocheck: line %d: %s before the first FROM", n.StartLine, strings.ToUpper(ins.Cmd))
			}
			continue
		}
		stage.Instructions = append(stage.Instructions, ins)
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("repocheck: Dockerfile has no FROM")
	}
	return df, nil
}

// expandKnown expands ${NAME} / $NAME references to known variables only.
func expandKnown(s string, vars map[string]string) string {
	return os.Expand(s, func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return "${" + name + "}"
	})
}

// Final returns the last stage, the one the image is made of.
func (df *Dockerfile) Final() *Stage { return &df.Stages[len(df.Stages)-1] }

// stageNames returns the set of stage names.
func (df *Dockerfile) stageNames() map[string]bool {
	names := map[string]bool{}
	for _, s := range df.Stages {
		if s.Name != "" {
			names[strings.ToLower(s.Name)] = true
		}
	}
	return names
}

// flagValue returns the value of --name=value in flags.
func flagValue(flags []string, name string) (string, bool) {
	for _, f := range flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// ProjectDir is where the final image keeps the project (go.mod, pkg/, notebooks/).
// It is also JupyterLab's root directory.
const ProjectDir = "/home/cmemae/cmemae"

var (
	latestRe      = regexp.MustCompile(`(?i)(@latest\b|:latest\b|-version[= ]+"?latest\b)`)
	goInstallRe   = regexp.MustCompile(`\bgo (?:install|get|run)\b[^&;|]*?\s(\S+@\S+)`)
	pinnedGoRe    = regexp.MustCompile(`@v\d+\.\d+\.\d+`)
	pipInstallRe  = regexp.MustCompile(`\bpip3? install\b([^&;|]*)`)
	aptInstallRe  = regexp.MustCompile(`\bapt(-get)? install\b`)
	imageTagRe    = regexp.MustCompile(`^[^@]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	imageDigestRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

// CheckDockerfile checks the parsed Dockerfile df against the rules in the package
// documentation. repoRoot is the build context, dockerignore the content of its
// .dockerignore (may be nil). It returns one message per problem.
func CheckDockerfile(df *Dockerfile, repoRoot string, dockerignore []byte) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// Stages.
	if len(df.Stages) < 2 {
		add("not multi-stage: %d stage(s)", len(df.Stages))
	}
	names := df.stageNames()

	// Pinned versions: ARGs with defaults, images with tags, no "latest".
	problems = append(problems, df.Unpinned...)
	for _, s := range df.Stages {
		img := s.Image
		switch {
		case names[strings.ToLower(img)]:
			// Built on an earlier stage.
		case strings.Contains(img, "${"):
			add("FROM %s: image reference not fully resolved", img)
		case imageDigestRe.MatchString(img):
		case !imageTagRe.MatchString(img):
			add("FROM %s: image has no tag (floating latest)", img)
		case strings.HasSuffix(strings.ToLower(img), ":latest"):
			add("FROM %s: :latest is not pinned", img)
		}
	}
	for _, s := range df.Stages {
		snapshot := false // apt reads a dated archive snapshot in this stage
		for _, ins := range s.Instructions {
			text := strings.Join(ins.Args, " ")
			if ins.Cmd == "run" && strings.Contains(text, "snapshot") {
				snapshot = true
			}
			if ins.Cmd == "run" && aptInstallRe.MatchString(text) && !snapshot {
				add("line %d: apt-get install without a dated archive snapshot (versions float)", ins.Line)
			}
			if m := latestRe.FindString(text); m != "" {
				add("line %d: %s %q is not pinned", ins.Line, strings.ToUpper(ins.Cmd), m)
			}
			if ins.Cmd != "run" {
				continue
			}
			for _, m := range goInstallRe.FindAllStringSubmatch(text, -1) {
				if !pinnedGoRe.MatchString(m[1]) {
					add("line %d: %s is not pinned to a vX.Y.Z version", ins.Line, m[1])
				}
			}
			for _, m := range pipInstallRe.FindAllStringSubmatch(text, -1) {
				for _, f := range strings.Fields(m[1]) {
					f = strings.Trim(f, `"'`)
					if strings.HasPrefix(f, "-") || f == "\\" || f == "" {
						continue
					}
					if !strings.Contains(f, "==") {
						add("line %d: pip package %q is not pinned with ==", ins.Line, f)
					}
				}
			}
		}
	}

	// COPY/ADD sources from the build context exist and are not ignored.
	ignore := parseDockerignore(dockerignore)
	for _, s := range df.Stages {
		for _, ins := range s.Instructions {
			if ins.Cmd != "copy" && ins.Cmd != "add" {
				continue
			}
			if from, ok := flagValue(ins.Flags, "from"); ok {
				if !names[strings.ToLower(from)] {
					add("line %d: COPY --from=%s is not a stage of this Dockerfile", ins.Line, from)
				}
				continue
			}
			if len(ins.Args) < 2 {
				add("line %d: %s needs a source and a destination", ins.Line, strings.ToUpper(ins.Cmd))
				continue
			}
			for _, src := range ins.Args[:len(ins.Args)-1] {
				clean := path.Clean(strings.TrimPrefix(src, "/"))
				matches, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(clean)))
				if err != nil || len(matches) == 0 {
					add("line %d: %s source %q does not exist in the repository", ins.Line, strings.ToUpper(ins.Cmd), src)
					continue
				}
				if clean != "." && ignore.ignored(clean) {
					add("line %d: %s source %q is excluded by .dockerignore", ins.Line, strings.ToUpper(ins.Cmd), src)
				}
			}
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "pkg", "notebooks", ".ci/install-gonb.sh"} {
		if ignore.ignored(p) {
			add(".dockerignore excludes %s, which the image needs", p)
		}
	}

	final := df.Final()
	problems = append(problems, checkFinalStage(final, repoRoot)...)
	return problems
}

// checkFinalStage checks the user, ports, health check, GoNB install and project layout
// of the image's stage.
func checkFinalStage(final *Stage, repoRoot string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	user, workdir := "", "/"
	var gonbInstalled, gonbScriptCopied, entrypoint, health bool
	var exposed []string
	var volumes []string
	// Where go.mod and notebooks/ land.
	goModDest, notebooksDest := "", ""
	resolve := func(dest string) string {
		if path.IsAbs(dest) {
			return path.Clean(dest)
		}
		return path.Join(workdir, dest)
	}
	for _, ins := range final.Instructions {
		switch ins.Cmd {
		case "user":
			if len(ins.Args) > 0 {
				user = ins.Args[0]
			}
		case "workdir":
			if len(ins.Args) > 0 {
				workdir = resolve(ins.Args[0])
			}
		case "expose":
			exposed = append(exposed, ins.Args...)
		case "volume":
			for _, v := range ins.Args {
				volumes = append(volumes, strings.Trim(v, `[]",`))
			}
		case "healthcheck":
			health = len(ins.Args) > 0 && !strings.EqualFold(ins.Args[0], "NONE")
		case "entrypoint":
			entrypoint = slices.ContainsFunc(ins.Args, func(a string) bool { return strings.Contains(a, "entrypoint") })
		case "run":
			if text := strings.Join(ins.Args, " "); strings.Contains(text, ".ci/install-gonb.sh") {
				if !gonbScriptCopied {
					add("line %d: runs .ci/install-gonb.sh before copying it", ins.Line)
				}
				if !regexp.MustCompile(`\bGONB_GO_WORK="?` + regexp.QuoteMeta(ProjectDir) + `"?(\s|$)`).MatchString(text) {
					add("line %d: the GoNB kernel is not registered with GONB_GO_WORK=%s (go.work of new notebooks)", ins.Line, ProjectDir)
				}
				gonbInstalled = true
			}
		case "copy", "add":
			if _, ok := flagValue(ins.Flags, "from"); ok || len(ins.Args) < 2 {
				continue
			}
			dest := ins.Args[len(ins.Args)-1]
			destDir := resolve(dest)
			for _, src := range ins.Args[:len(ins.Args)-1] {
				src = path.Clean(src)
				target := destDir
				if !strings.HasSuffix(dest, "/") && dest != "." && len(ins.Args) == 2 && src != "." {
					target = destDir // COPY file dest: dest is the file
				} else if src != "." {
					target = path.Join(destDir, path.Base(src))
				}
				switch src {
				case ".":
					goModDest = path.Join(destDir, "go.mod")
					notebooksDest = path.Join(destDir, "notebooks")
					gonbScriptCopied = true
				case "go.mod":
					goModDest = target
				case "notebooks":
					notebooksDest = target
				case ".ci", ".ci/install-gonb.sh":
					gonbScriptCopied = true
				}
			}
		}
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		add("final stage runs as root (USER %q): add a non-root USER", user)
	}
	if !slices.ContainsFunc(exposed, func(p string) bool { return p == "8888" || p == "8888/tcp" }) {
		add("final stage does not EXPOSE 8888")
	}
	if !health {
		add("final stage has no HEALTHCHECK")
	}
	if !entrypoint {
		add("final stage has no ENTRYPOINT running .ci/docker-entrypoint.sh (GOMLX_BACKEND choice)")
	}
	if !gonbInstalled {
		add("final stage does not run .ci/install-gonb.sh (the GoNB install CI runs)")
	}
	if len(volumes) == 0 {
		add("final stage declares no VOLUME for results and data")
	}
	if !slices.Contains(volumes, path.Join(ProjectDir, "results")) {
		add("final stage has no VOLUME %s/results (where notebooks write results)", ProjectDir)
	}
	// go.work set-up: notebooks use "${GONB_DIR}/..", so notebooks/ must sit next to go.mod.
	switch {
	case goModDest == "" || notebooksDest == "":
		add("final stage does not copy go.mod (%q) and notebooks/ (%q) into the image", goModDest, notebooksDest)
	case path.Dir(goModDest) != path.Dir(notebooksDest):
		add("notebooks/ (%s) is not next to go.mod (%s): notebooks' go.work uses \"${GONB_DIR}/..\"", notebooksDest, goModDest)
	case path.Dir(goModDest) != ProjectDir:
		add("project copied to %s, want %s", path.Dir(goModDest), ProjectDir)
	}
	if workdir != ProjectDir && workdir != path.Join(ProjectDir, "notebooks") {
		add("final WORKDIR %s does not hold the notebooks (want %s)", workdir, ProjectDir)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".ci", "install-gonb.sh")); err != nil {
		add(".ci/install-gonb.sh missing from the repository: %v", err)
	}
	return problems
}

// dockerignore is a minimal .dockerignore matcher: patterns are matched with path.Match
// against the path and each of its parents ("**/" prefixes match at any depth);
// "!" exceptions are honoured in order.
type dockerignore []string

func parseDockerignore(content []byte) dockerignore {
	var pats dockerignore
	sc := bufio.NewScanner(bytes.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pats = append(pats, line)
	}
	return pats
}

func (d dockerignore) ignored(p string) bool {
	p = path.Clean(p)
	ignored := false
	for _, pat := range d {
		negate := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
		if matchIgnore(pat, p) {
			ignored = !negate
		}
	}
	return ignored
}

func matchIgnore(pat, p string) bool {
	anyDepth := strings.HasPrefix(pat, "**/")
	pat = strings.TrimPrefix(pat, "**/")
	for cand := p; cand != "." && cand != "/"; cand = path.Dir(cand) {
		if ok, _ := path.Match(pat, cand); ok {
			return true
		}
		if anyDepth {
			if ok, _ := path.Match(pat, path.Base(cand)); ok {
				return true
			}
		}
	}
	return false
}
