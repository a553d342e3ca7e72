package notebook

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/widgets"

	"github.com/cmemae/cmemae/pkg/plots"
)

// WidgetIdleEnv sets how long (seconds) a Dropdown keeps listening for
// selections after the last one; default 300.
const WidgetIdleEnv = "CMEMAE_WIDGET_IDLE"

// Dropdown shows a GoNB dropdown (select widget) of options and a figure drawn
// by draw(selected index), redrawn whenever the user picks another option.
//
// The default option is drawn at once, so a headless run (nbconvert, where no
// front-end ever answers the widget) still gets the figure; there Dropdown
// returns after a few seconds. With a live front-end it keeps listening until no
// selection was made for CMEMAE_WIDGET_IDLE seconds (default 300); interrupt the
// cell to stop earlier, and re-run it to interact again.
func Dropdown(options []string, def int, draw func(i int) (*plots.Figure, error)) error {
	if len(options) == 0 {
		return fmt.Errorf("notebook: Dropdown: no options")
	}
	if def < 0 || def >= len(options) {
		def = 0
	}
	if !gonbui.IsNotebook {
		_, err := draw(def)
		return err
	}
	ready := make(chan *widgets.SelectBuilder, 1)
	go func() {
		// Done displays the <select> and then waits for the front-end's first
		// message, which never comes in headless execution.
		ready <- widgets.Select(options).SetDefault(def).Done()
	}()
	id := "cmemae-dropdown-" + gonbui.UniqueID()
	show := func(i int) error {
		f, err := draw(i)
		if err != nil {
			return err
		}
		return plots.DisplayUpdatable(id, f)
	}
	if err := show(def); err != nil {
		return err
	}
	var sel *widgets.SelectBuilder
	select {
	case sel = <-ready:
	case <-time.After(8 * time.Second):
		fmt.Println("(no interactive front-end answered: showing the default selection)")
		return nil
	}
	idle := 300 * time.Second
	if s, err := strconv.Atoi(os.Getenv(WidgetIdleEnv)); err == nil && s >= 0 {
		idle = time.Duration(s) * time.Second
	}
	ch := sel.Listen().LatestOnly()
	defer ch.Close()
	current := def
	for {
		select {
		case i := <-ch.C:
			if i == current || i < 0 || i >= len(options) {
				continue
			}
			current = i
			if err := show(i); err != nil {
				return err
			}
		case <-time.After(idle):
			fmt.Printf("(stopped listening to the dropdown after %s without a change: re-run the cell to interact again)\n", idle)
			return nil
		}
	}
}
