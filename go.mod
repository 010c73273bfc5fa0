module github.com/teardown-lab/teardown

go 1.26
