module github.com/castd/castd

go 1.25.0
