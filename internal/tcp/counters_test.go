package tcp

import (
	"reflect"
	"testing"
)

// Add sums every field: fill each with a distinct value through
// reflection, so a field added later and forgotten in Add fails here.
func TestCountersAddSumsEveryField(t *testing.T) {
	var a Counters
	v := reflect.ValueOf(&a).Elem()
	n := uint64(1)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Array {
			for j := range f.Len() {
				f.Index(j).SetUint(n)
				n++
			}
			continue
		}
		f.SetUint(n)
		n++
	}
	var sum Counters
	sum.Add(a)
	sum.Add(a)
	sv := reflect.ValueOf(sum)
	for i := range v.NumField() {
		f, g := v.Field(i), sv.Field(i)
		if f.Kind() == reflect.Array {
			for j := range f.Len() {
				if g.Index(j).Uint() != 2*f.Index(j).Uint() {
					t.Errorf("%s[%d] not summed", v.Type().Field(i).Name, j)
				}
			}
			continue
		}
		if g.Uint() != 2*f.Uint() {
			t.Errorf("%s not summed", v.Type().Field(i).Name)
		}
	}
}
